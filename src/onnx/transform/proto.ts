/**
 * Editing an ONNX model at the protobuf level, for the model transforms (quantize, prune, convert) and for
 * `saveOnnx`. Working on the decoded ModelProto keeps everything the runtime's Graph does not carry (attribute
 * types, doc strings, value_info, metadata) exactly as the file had it; only the nodes and initializers a
 * transform touches change. The fused nodes of the runtime (domain 'simdtensor') never appear here.
 * @module
 */
import { rangeError, typeError } from '../../errors.js';
import { onnxProto, tensorFromProto } from '../load.js';
import type { ModelSource } from '../load.js';
import type { Value } from '../value.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A decoded protobuf message (onnx-proto's generated classes). */
export type Msg = any;

/** TensorProto.DataType codes used here. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const VALUE_CODE: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 };

/** Attribute type codes (AttributeProto.AttributeType). */
const A = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** A protobufjs Long / number / string as a BigInt (exact for the full int64 range). */
export function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof (v as { toString?: unknown }).toString === 'function') return BigInt(String(v));
  return 0n;
}

/** Raw little-endian bytes of a typed array (copied). */
function rawOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/** A TensorProto from a runtime value (int64 values are exact integers held in a Float64Array). */
export function tensorProto(name: string, v: Value): Msg {
  const code = VALUE_CODE[v.dtype];
  if (!code) throw typeError('saveOnnx', `tensor '${name}' has dtype ${v.dtype}, which cannot be written`);
  let raw: Uint8Array;
  if (v.dtype === 'int64') raw = rawOf(BigInt64Array.from(v.data as Float64Array, (x) => BigInt(x)));
  else raw = rawOf(v.data);
  return onnxProto.TensorProto.create({ name, dataType: code, dims: v.shape.slice(), rawData: raw });
}

/** A TensorProto of raw elements of an explicit type (float16/bfloat16 bits, int64 BigInts). */
export function rawTensorProto(name: string, code: number, dims: readonly number[], data: ArrayBufferView): Msg {
  return onnxProto.TensorProto.create({ name, dataType: code, dims: dims.slice(), rawData: rawOf(data) });
}

/** An attribute of a node by name, or undefined. */
export function attr(node: Msg, name: string): Msg | undefined {
  return (node.attribute as Msg[] | undefined)?.find((a) => a.name === name);
}
/** An int attribute (default when absent). */
export function attrI(node: Msg, name: string, def: number): number {
  const a = attr(node, name);
  return a ? Number(big(a.i)) : def;
}
/** A float attribute (default when absent). */
export function attrF(node: Msg, name: string, def: number): number {
  const a = attr(node, name);
  return a ? Number(a.f ?? 0) : def;
}
/** An ints attribute as BigInts (exact), or null when absent. */
export function attrInts(node: Msg, name: string): bigint[] | null {
  const a = attr(node, name);
  return a ? ((a.ints as unknown[]) ?? []).map(big) : null;
}
/** Removes an attribute by name. */
export function dropAttr(node: Msg, name: string): void {
  node.attribute = ((node.attribute as Msg[]) ?? []).filter((a) => a.name !== name);
}
/** Sets an int / float / ints attribute. */
export function setAttr(node: Msg, name: string, kind: 'int' | 'float' | 'ints', v: number | number[]): void {
  dropAttr(node, name);
  const a: Msg = { name };
  if (kind === 'int') Object.assign(a, { type: A.INT, i: v as number });
  else if (kind === 'float') Object.assign(a, { type: A.FLOAT, f: v as number });
  else Object.assign(a, { type: A.INTS, ints: v as number[] });
  node.attribute.push(onnxProto.AttributeProto.create(a));
}

/** A NodeProto. */
export function nodeProto(op: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, ['int' | 'float' | 'ints', number | number[]]> = {}, domain = ''): Msg {
  const n = onnxProto.NodeProto.create({ opType: op, input: inputs, output: outputs, name, domain, attribute: [] });
  for (const [k, [kind, v]] of Object.entries(attrs)) setAttr(n, k, kind, v);
  return n;
}

/**
 * A model being edited: the decoded ModelProto, its constants (initializers; Constant nodes are turned into
 * initializers first) and a name generator. `bytes()` encodes it.
 */
export class EditModel {
  readonly proto: Msg;
  readonly baseDir: string | null;
  private names = new Set<string>();
  private seq = 0;
  private cache = new Map<string, Value>();

  constructor(src: ModelSource, fn: string) {
    try {
      this.proto = onnxProto.ModelProto.decode(src.bytes);
    } catch (e) {
      throw rangeError(fn, `the model's bytes are not a valid ONNX file (${(e as Error).message})`);
    }
    this.baseDir = src.baseDir;
    const g = this.graph;
    if (!g) throw rangeError(fn, 'the model has no graph');
    g.node ??= [];
    g.initializer ??= [];
    for (const n of g.node) {
      n.attribute ??= [];
      n.input ??= [];
      n.output ??= [];
      for (const o of n.output) this.names.add(o);
      if (n.name) this.names.add(n.name);
    }
    for (const t of g.initializer) this.names.add(t.name);
    for (const i of g.input ?? []) this.names.add(i.name);
    this.constantsToInitializers();
    this.inlineExternal();
    // Files before IR 4 list initializers among the graph inputs too; inputs here are only the real feeds.
    const inits = new Set((g.initializer as Msg[]).map((t) => t.name));
    if ((g.input ?? []).some((i: Msg) => inits.has(i.name))) {
      g.input = (g.input as Msg[]).filter((i) => !inits.has(i.name));
      if (Number(big(this.proto.irVersion)) < 4) this.proto.irVersion = 4;
    }
  }

  /** The GraphProto. */
  get graph(): Msg {
    return this.proto.graph;
  }
  /** The nodes (mutable list). */
  get nodes(): Msg[] {
    return this.graph.node;
  }

  /** The ai.onnx opset (or another domain's). */
  opset(domain = ''): number | undefined {
    for (const o of this.proto.opsetImport ?? []) if ((o.domain ?? '') === domain || (domain === '' && o.domain === 'ai.onnx')) return Number(big(o.version));
    return undefined;
  }
  /** Sets a domain's opset version (adding the import when missing). */
  setOpset(domain: string, version: number): void {
    this.proto.opsetImport ??= [];
    const o = (this.proto.opsetImport as Msg[]).find((x) => (x.domain ?? '') === domain || (domain === '' && x.domain === 'ai.onnx'));
    if (o) o.version = version;
    else this.proto.opsetImport.push(onnxProto.OperatorSetIdProto.create({ domain, version }));
    // IR version 7 is the first that lists opset 13; a newer file keeps its own.
    if (domain === '' && Number(big(this.proto.irVersion)) < 7) this.proto.irVersion = 7;
  }

  /** A fresh value / node name starting with `base`. */
  fresh(base: string): string {
    let n = base;
    while (this.names.has(n)) n = `${base}_${++this.seq}`;
    this.names.add(n);
    return n;
  }

  /** The initializer proto of `name`, if any. */
  initProto(name: string): Msg | undefined {
    return (this.graph.initializer as Msg[]).find((t) => t.name === name);
  }
  /** The constant value of `name` (an initializer), or undefined. */
  constValue(name: string | undefined): Value | undefined {
    if (!name) return undefined;
    const hit = this.cache.get(name);
    if (hit) return hit;
    const t = this.initProto(name);
    if (!t) return undefined;
    const v = tensorFromProto(t, this.baseDir);
    this.cache.set(name, v);
    return v;
  }
  /** Adds (or replaces) an initializer from a value; returns its name. */
  setInit(name: string, v: Value): string {
    return this.setInitProto(tensorProto(name, v));
  }
  /** Adds (or replaces) an initializer proto; returns its name. */
  setInitProto(t: Msg): string {
    const inits = this.graph.initializer as Msg[];
    const i = inits.findIndex((x) => x.name === t.name);
    if (i >= 0) inits[i] = t;
    else inits.push(t);
    this.names.add(t.name);
    this.cache.delete(t.name);
    // An initializer that is also a graph input (IR < 4 files) would be overridable; ours never are.
    this.graph.input = ((this.graph.input as Msg[]) ?? []).filter((x) => x.name !== t.name);
    return t.name;
  }
  /** A new initializer under a fresh name. */
  addInit(base: string, v: Value): string {
    return this.setInit(this.fresh(base), v);
  }

  /** How many nodes read `name` (graph outputs count as readers). */
  readers(name: string): number {
    let k = 0;
    for (const n of this.nodes) for (const i of n.input) if (i === name) k++;
    for (const o of this.graph.output ?? []) if (o.name === name) k++;
    return k;
  }
  /** Drops initializers nobody reads. */
  pruneInits(): void {
    const used = new Set<string>();
    for (const n of this.nodes) for (const i of n.input) used.add(i);
    for (const o of this.graph.output ?? []) used.add(o.name);
    this.graph.initializer = (this.graph.initializer as Msg[]).filter((t) => used.has(t.name));
    for (const k of [...this.cache.keys()]) if (!used.has(k)) this.cache.delete(k);
  }

  /** Constant nodes (value / value_float(s) / value_int(s)) become initializers of the same name. */
  private constantsToInitializers(): void {
    const keep: Msg[] = [];
    for (const n of this.nodes) {
      if (n.opType !== 'Constant' || (n.domain ?? '') !== '' || n.output.length !== 1) {
        keep.push(n);
        continue;
      }
      const a = (n.attribute as Msg[])[0];
      const name = n.output[0];
      let t: Msg | null = null;
      if (a?.name === 'value' && a.t) {
        t = a.t;
        t.name = name;
      }
      else if (a?.name === 'value_float') t = rawTensorProto(name, DT.FLOAT, [], Float32Array.of(Number(a.f ?? 0)));
      else if (a?.name === 'value_floats') t = rawTensorProto(name, DT.FLOAT, [a.floats.length], Float32Array.from(a.floats as number[]));
      else if (a?.name === 'value_int') t = rawTensorProto(name, DT.INT64, [], BigInt64Array.of(big(a.i)));
      else if (a?.name === 'value_ints') t = rawTensorProto(name, DT.INT64, [a.ints.length], BigInt64Array.from((a.ints as unknown[]).map(big)));
      if (!t) {
        keep.push(n); // sparse_value / string values stay Constant nodes
        continue;
      }
      (this.graph.initializer as Msg[]).push(t);
    }
    this.graph.node = keep;
  }

  /** External-data initializers are read into the file (the written model is one self-contained file). */
  private inlineExternal(): void {
    const inits = this.graph.initializer as Msg[];
    for (let i = 0; i < inits.length; i++) {
      const t = inits[i];
      if (Number(t.dataLocation ?? 0) !== 1) continue;
      inits[i] = tensorProto(t.name, tensorFromProto(t, this.baseDir));
    }
  }

  /** The encoded model. */
  bytes(): Uint8Array {
    this.proto.producerName = this.proto.producerName || 'simdtensor';
    return onnxProto.ModelProto.encode(this.proto).finish();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Opset upgrade

const I64_MAX = (1n << 63n) - 1n, I64_MIN = -(1n << 63n);
function i64Init(m: EditModel, base: string, vals: bigint[], scalar = false): string {
  const clamped = vals.map((v) => (v > I64_MAX ? I64_MAX : v < I64_MIN ? I64_MIN : v));
  return m.setInitProto(rawTensorProto(m.fresh(base), DT.INT64, scalar ? [] : [clamped.length], BigInt64Array.from(clamped)));
}

/**
 * Raises the ai.onnx opset to `target` (≥ 11), rewriting the operators whose inputs or semantics changed on the way:
 * attributes that became inputs (Clip min/max at 11, Slice starts/ends/axes/steps at 10, Pad pads/value at 11,
 * Squeeze/Unsqueeze/ReduceSum axes and Split sizes at 13, Dropout's ratio at 12 — written as Identity, as at
 * inference), and Softmax/LogSoftmax/Hardmax below 13, which normalized over the input flattened to 2-D at `axis`:
 * written as Flatten(axis) → op(axis −1) → Reshape(Shape(x)), exactly the old semantics. Operators whose old form
 * has no safe rewrite here (Upsample, Resize before 11, TopK before 10, Scatter, BatchNormalization's spatial)
 * fail with one error naming them. Returns the number of rewritten nodes.
 */
export function upgradeOpset(m: EditModel, target: number, fn: string): number {
  const from = m.opset('') ?? 1;
  if (from >= target) return 0;
  const bad = new Set<string>();
  for (const n of m.nodes) {
    if ((n.domain ?? '') !== '') continue;
    const op = n.opType as string;
    if (op === 'Upsample' || op === 'Scatter' || (op === 'Resize' && from < 11) || (op === 'TopK' && from < 10) || (op === 'BatchNormalization' && from < 9 && attr(n, 'spatial')))
      bad.add(op);
    if (op === 'Dropout' && n.output.length > 1 && n.output[1] && m.readers(n.output[1]) > 0) bad.add('Dropout (mask output read)');
  }
  if (bad.size) throw typeError(fn, `cannot upgrade the model from opset ${from} to ${target} (needed for the int8 operators): no rewrite for ${[...bad].join(', ')}`);
  let count = 0;
  const out: Msg[] = [];
  for (const n of m.nodes) {
    if ((n.domain ?? '') !== '') {
      out.push(n);
      continue;
    }
    const op = n.opType as string;
    const moved = (names: string[]) => names.map((k) => attrInts(n, k));
    if (op === 'Clip' && from < 11) {
      const lo = attr(n, 'min'), hi = attr(n, 'max');
      n.input = [n.input[0], lo ? m.addInit(`${n.output[0]}_min`, f32scalar(Number(lo.f ?? 0))) : '', hi ? m.addInit(`${n.output[0]}_max`, f32scalar(Number(hi.f ?? 0))) : ''];
      while (n.input.length > 1 && !n.input[n.input.length - 1]) n.input.pop();
      dropAttr(n, 'min');
      dropAttr(n, 'max');
      count++;
    } else if (op === 'Slice' && from < 10) {
      const [starts, ends, axes] = moved(['starts', 'ends', 'axes']);
      n.input = [n.input[0], i64Init(m, `${n.output[0]}_starts`, starts ?? []), i64Init(m, `${n.output[0]}_ends`, ends ?? [])];
      if (axes) n.input.push(i64Init(m, `${n.output[0]}_axes`, axes));
      for (const k of ['starts', 'ends', 'axes']) dropAttr(n, k);
      count++;
    } else if (op === 'Pad' && from < 11) {
      const pads = attrInts(n, 'pads') ?? [];
      const value = attrF(n, 'value', 0);
      n.input = [n.input[0], i64Init(m, `${n.output[0]}_pads`, pads), m.addInit(`${n.output[0]}_value`, f32scalar(value))];
      dropAttr(n, 'pads');
      dropAttr(n, 'value');
      count++;
    } else if ((op === 'Squeeze' || op === 'Unsqueeze' || op === 'ReduceSum') && target >= 13 && from < 13) {
      const axes = attrInts(n, 'axes');
      if (axes) n.input = [n.input[0], i64Init(m, `${n.output[0]}_axes`, axes)];
      dropAttr(n, 'axes');
      count++;
    } else if (op === 'Split' && target >= 13 && from < 13) {
      const split = attrInts(n, 'split');
      if (split) n.input = [n.input[0], i64Init(m, `${n.output[0]}_split`, split)];
      dropAttr(n, 'split');
      count++;
    } else if (op === 'Dropout' && target >= 12 && from < 12) {
      n.opType = 'Identity';
      n.attribute = [];
      n.input = [n.input[0]];
      n.output = [n.output[0]];
      count++;
    } else if ((op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') && target >= 13 && from < 13) {
      const axis = attrI(n, 'axis', 1);
      if (axis !== -1) {
        // Old semantics: coerce to 2-D at `axis`, normalize each row, restore the shape.
        const x = n.input[0], y = n.output[0];
        const flat = m.fresh(`${y}_2d`), shp = m.fresh(`${y}_shape`), y2 = m.fresh(`${y}_rows`);
        out.push(nodeProto('Flatten', [x], [flat], m.fresh(`${n.name || y}_flatten`), { axis: ['int', axis] }));
        out.push(nodeProto('Shape', [x], [shp], m.fresh(`${n.name || y}_shape`)));
        n.input = [flat];
        n.output = [y2];
        setAttr(n, 'axis', 'int', -1);
        out.push(n);
        out.push(nodeProto('Reshape', [y2, shp], [y], m.fresh(`${n.name || y}_reshape`)));
        count++;
        continue;
      }
    }
    out.push(n);
  }
  m.graph.node = out;
  m.setOpset('', target);
  return count;
}

function f32scalar(v: number): Value {
  return { dtype: 'float32', shape: [], data: Float32Array.of(v), size: 1 };
}
