/**
 * The operator registry: one entry per (domain, op type). An entry runs the op on runtime values, writing into
 * planned outputs when the memory plan passes them. Adding an operator is one `registerOnnxOp` call.
 * @module
 */
import { checkMembers, describe, typeError } from '../../errors.js';
import type { Node } from '../graph.js';
import type { OData, Value } from '../value.js';
import { isNativeOnly } from '../../native.js';

/** What an operator implementation receives besides its inputs. */
export interface OpContext {
  /** The model's opset for the node's domain. */
  opset: number;
}

/** One operator. */
export interface OpDef {
  /**
   * Computes the outputs. `ins[i]` is undefined for an omitted optional input. `outs[i]`, when given, is the
   * planned buffer for output i (right dtype and size, from an earlier run with the same input shapes): the op
   * must write there and return it. Without it the op allocates.
   */
  run(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], ctx: OpContext): Value[];
  /** The async form for heavy ops (runs on the native pool); ops without one run synchronously in runAsync. */
  runAsync?(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], ctx: OpContext, signal?: AbortSignal): Promise<Value[]>;
  /** Inputs whose *values* decide output shapes (Reshape's shape, Slice's starts…): the plan needs them constant. */
  shapeInputs?: number[];
  /** Output 0 is a view of input 0's storage (Reshape, Squeeze…): no kernel, no buffer of its own. */
  alias?: boolean;
  /** Validates attributes at load (throws a clear error for settings the runtime does not implement). */
  check?(node: Node, ctx: OpContext): void;
  /** Opset versions this entry implements for its domain (inclusive); default 1..21 for ai.onnx. */
  opsets?: [number, number];
}

const ops = new Map<string, OpDef>();

const key = (domain: string, op: string) => `${domain === 'ai.onnx' ? '' : String(domain)}::${String(op)}`;

/** Registers (or replaces) the implementation of `op` in `domain` ('' = ai.onnx). */
export function registerOnnxOp(op: string, def: OpDef, domain = ''): void {
  // A junk registration would break every later model using the op: refuse it here (the register* contract).
  const fn = 'registerOnnxOp';
  if (typeof op !== 'string' || op === '') throw typeError(fn, `op must be a non-empty string, got ${describe(op)}`);
  if (typeof domain !== 'string') throw typeError(fn, `domain must be a string, got ${describe(domain)}`);
  checkMembers(fn, 'def', def, { run: 'function', runAsync: 'function?', check: 'function?' });
  const { shapeInputs, opsets } = def;
  if (shapeInputs !== undefined && !(Array.isArray(shapeInputs) && shapeInputs.every((i) => Number.isInteger(i) && i >= 0)))
    throw typeError(fn, `def.shapeInputs must be an array of input indices, got ${describe(shapeInputs)}`);
  if (opsets !== undefined && !(Array.isArray(opsets) && opsets.length === 2 && opsets.every((v) => Number.isInteger(v) && v >= 1) && opsets[0] <= opsets[1]))
    throw typeError(fn, `def.opsets must be [first, last] opset versions, got ${describe(opsets)}`);
  ops.set(key(domain, op), def);
}

/**
 * The implementation of `op` in `domain`, if any.
 * @throws TypeError when `op` or `domain` is not a string (the key is built from both).
 */
export function getOnnxOp(op: string, domain: string): OpDef | undefined {
  if (typeof op !== 'string') throw typeError('getOnnxOp', `op must be a string, got ${describe(op)}`);
  if (typeof domain !== 'string') throw typeError('getOnnxOp', `domain must be a string, got ${describe(domain)}`);
  return ops.get(key(domain, op));
}

/** Every registered `domain::op` (for docs and error messages). */
export function registeredOnnxOps(): string[] {
  return [...ops.keys()].sort();
}

/**
 * The same call over other storage of the same shapes: the inputs' and the output's arrays of this run (see
 * {@link keepCall}).
 */
export type Rebind = (ins: readonly (OData | undefined)[], out: OData) => void;

/** A prepared call of one node over the exact storage it was built for (see {@link keptCall}). */
interface KeptCall {
  ins: (OData | undefined)[];
  shapes: (readonly number[])[];
  dtypes: (string | undefined)[];
  out: Value;
  /** Every output the call writes (out first): the planned buffers of a node with several outputs. */
  outs: Value[];
  call: () => void;
  /** The call is {@link nativeOnly}: the planned runner may record it and replay it natively. */
  replay: boolean;
  rebind?: Rebind;
}

const kept = new WeakMap<Node, KeptCall>();
/** Outputs the runner made fresh for one run (graph outputs): never kept, since the next run brings another. */
const fresh = new WeakSet<Value>();

/** Whether a call is kept on `node` (see {@link keepCall}); for tests and diagnostics. */
export function hasKeptCall(node: Node): boolean {
  return kept.has(node);
}

/** Marks `v` as a one-run output buffer (see {@link keepCall}); returns it. */
export function markFresh(v: Value): Value {
  fresh.add(v);
  return v;
}

/**
 * Runs the call kept on `node` by {@link keepCall} and returns its output when the node sees the same input storage
 * arrays with the same shapes and the same planned output as when it was kept — the planned runner passes the same
 * arena views, constants and static values every run, so its shape work, argument arrays and views are made once per
 * plan, not once per run (their garbage was most of a run's young-generation bytes). Else undefined: run normally.
 * The runner (plan.ts) asks before every step; an op only decides what to keep.
 */
export function keptCall(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): Value[] | undefined {
  const k = matching(node, ins, outs);
  if (k) {
    k.call();
    return k.outs;
  }
  const r = rebinding(node, ins, outs);
  if (!r) return undefined;
  const o = outs[0]!;
  r(ins.map((v) => v?.data), o.data);
  return [o];
}

/**
 * The rebindable form of the call kept on `node` when this run's inputs and planned output have the shapes and
 * element types it was kept with but other storage: a graph input (a new array every run) or a fresh graph output.
 */
function rebinding(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): Rebind | undefined {
  const k = kept.get(node);
  const o = outs[0];
  if (!k?.rebind || k.outs.length > 1 || !o || o.dtype !== k.out.dtype || !sameShape(o.shape, k.out.shape) || ins.length !== k.ins.length) return undefined;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (!v !== !k.ins[i]) return undefined;
    if (v && (v.dtype !== k.dtypes[i] || !sameShape(v.shape, k.shapes[i]))) return undefined;
  }
  return k.rebind;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}

/** The call kept on `node` if it matches these inputs and planned output (see {@link keptCall}). */
function matching(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): KeptCall | undefined {
  const k = kept.get(node);
  if (!k || outs[0] !== k.out || ins.length !== k.ins.length || outs.length < k.outs.length) return undefined;
  for (let j = 1; j < k.outs.length; j++) if (outs[j] !== k.outs[j]) return undefined;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (v?.data !== k.ins[i]) return undefined;
    const s = k.shapes[i];
    if (v) {
      if (v.shape.length !== s.length) return undefined;
      for (let j = 0; j < s.length; j++) if (v.shape[j] !== s[j]) return undefined;
    }
  }
  return k;
}

/**
 * The call kept on `node` when {@link keptCall} would run it and it is {@link nativeOnly} (nothing but recordable
 * native op calls), without running it: the planned runner records such calls and replays them natively. Else
 * undefined.
 */
export function keptReplay(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): (() => void) | undefined {
  const k = matching(node, ins, outs);
  return k?.replay ? k.call : undefined;
}

/**
 * Keeps `call` (which writes `out`, the node's only output) for {@link keptCall}; only for a planned output
 * (`outs[0]`). Over a fresh one (the runner's for a graph output: {@link markFresh}) only with `rebind`, the same
 * call over other arrays of the same shapes and element types, which the runner then uses every run with that run's
 * inputs and fresh output (a node reading a graph input takes it too): `rebind` may depend on the shapes, the
 * attributes and the element types, never on the data, and keeps every data-dependent check of the op's own run.
 */
export function keepCall(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], out: Value, call: () => void, rebind?: Rebind): void {
  if (outs[0] !== out) return;
  const once = fresh.has(out);
  if (once && !rebind) return;
  // Over a fresh output only the rebindable form is ever used: hold its shape, not its storage, nor (through the call
  // or the inputs) the run's buffers, and never match it as the same storage.
  if (once) kept.set(node, entry(ins, [{ dtype: out.dtype, shape: out.shape.slice(), data: NO_DATA, size: out.size }], NO_CALL, rebind, true));
  else kept.set(node, entry(ins, [out], call, rebind, false));
}
const NO_DATA = new Float32Array(0);
const NO_CALL = () => {};

/** The kept-call record over `ins` writing `outs`; `shapeOnly`: the inputs' storage is not held (never matched). */
function entry(ins: (Value | undefined)[], outs: Value[], call: () => void, rebind: Rebind | undefined, shapeOnly: boolean): KeptCall {
  return {
    ins: ins.map((v) => (v && shapeOnly ? NO_DATA : v?.data)),
    shapes: ins.map((v) => (v ? v.shape.slice() : [])),
    dtypes: ins.map((v) => v?.dtype),
    out: outs[0],
    outs,
    call,
    replay: !shapeOnly && isNativeOnly(call),
    rebind,
  };
}

/**
 * Keeps `call` for {@link keptCall} on a node with several outputs, which it writes all of: only when every output is
 * a planned buffer of the run (none fresh), and never rebindable.
 */
export function keepCallAll(node: Node, ins: (Value | undefined)[], outs: (Value | undefined)[], written: Value[], call: () => void): void {
  if (written.length === 0 || written.some((v, j) => outs[j] !== v || fresh.has(v))) return;
  kept.set(node, entry(ins, written.slice(), call, undefined, false));
}

/**
 * After `node` ran by delegating to another op's `run` on node `via` (e.g. an Int8Conv on its float32 route runs a
 * FusedConv node): keeps the call `via` kept, if any, on `node` over `node`'s own inputs, so the planned runner
 * (which asks for `node`) reruns it instead of taking the delegating path every run.
 */
export function keepCallVia(node: Node, via: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]): void {
  const k = kept.get(via);
  if (k) keepCall(node, ins, outs, k.out, k.call);
}
