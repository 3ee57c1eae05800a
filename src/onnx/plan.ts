/**
 * Execution and the static memory plan. The first run for a given set of input shapes executes the graph with
 * fresh buffers and records every value's dtype and shape; from that record the plan freezes values that depend
 * only on constants and input shapes (the shape subgraphs: constant folding per input shape), gives each
 * remaining intermediate an offset in one arena by lifetime (best fit, reused across runs), and precomputes
 * views. Later runs with the same shapes allocate only the graph outputs.
 * @module
 */
import { allocOutput } from '../alloc.js';
import { rangeError, typeError } from '../errors.js';
import { holds } from '../tensor.js';
import { abortError } from '../executor/submit.js';
import { monitorHook } from '../ops/registry.js';
import type { Graph, Node } from './graph.js';
import { getOnnxOp, keptCall, keptReplay, markFresh, type OpContext, type OpDef } from './ops/registry.js';
import { maxIsaEpoch, native, type NativeChunkSteps } from '../native.js';
import { mk, obytes, oview, type OData, type Value } from './value.js';

/** One node ready to run. */
export interface Step {
  node: Node;
  def: OpDef;
  ctx: OpContext;
  ins: number[];
  outs: number[];
  /**
   * The input values handed to `def.run`, refilled on each synchronous execution (one array per step for the
   * runner's life, not one per step and run). Ops read it during the call and never keep it; runAsync's awaited ops
   * get a fresh array.
   */
  args: (Value | undefined)[];
}

/** Shared by steps without planned outputs (ops only read `outs[i]`, never write it). */
const NO_OUTS: readonly (Value | undefined)[] = Object.freeze([]);

/**
 * Replayed segments (on by default; `SIMDTENSOR_ONNX_REPLAY=0` turns them off, for A/B runs). On a planned
 * synchronous run, consecutive steps whose kept call is {@link nativeOnly} and reads and writes only memory the plan
 * owns (arena views and constants: no graph input, no graph output) are recorded once into a native step list
 * (binding/steps.cc, `recordSteps`) and then run by one `runSteps` call a run: no per-step JavaScript, argument
 * parsing or N-API crossing, for the same kernels on the same memory (the record holds the parsed calls). Recorded
 * at a plan's second planned run (the first keeps the calls); again after setMaxIsa (a record holds the kernels
 * selected when it was made). Not while the monitor is on or for a profile (both time steps one by one).
 */
const REPLAY = process.env.SIMDTENSOR_ONNX_REPLAY !== '0';
/** runSteps's input and stage (one float each; the replayed steps read neither). */
const REPLAY_X = new Float32Array(1), REPLAY_STAGE = new Float32Array(1);

/** Steps [from, to) of a plan, recorded: one `runSteps` call runs them all. */
interface ReplaySegment {
  from: number;
  to: number;
  steps: NativeChunkSteps;
}

/** A frozen plan for one input-shape signature. */
interface Plan {
  /** Steps still to run (static ones are gone). */
  steps: Step[];
  /** Planned output buffers per step (undefined = allocate: graph outputs). */
  stepOuts: (Value | undefined)[][];
  /** Values fixed for every run: constants, static values, arena views. */
  fixed: (Value | undefined)[];
  /**
   * Per step: the outputs that get a fresh buffer every run (graph outputs, and values a graph output views), made by
   * the runner with `allocOutput` — not zero-filled, since an op writes a planned output whole (arena buffers hold
   * stale bytes too) — and passed to the op as planned outputs. Undefined where none.
   */
  freshOuts: ({ j: number; dtype: 'float32' | 'int32' | 'int8' | 'uint8'; shape: number[]; size: number }[] | undefined)[];
  /** Graph-output slots and their dtype/shape (fresh buffers per run). */
  outputs: { slot: number; value: Value }[];
  /** Alias steps that must run each time (their base changes per run). */
  liveAlias: Set<Step>;
  /**
   * Per step: the output shape of an alias step that runs each time (a view of a graph input or of a fresh output:
   * BERT's mask Unsqueeze, rec's final Reshape) — its shape is fixed by the plan's input shapes, so the runner makes
   * the view itself instead of calling the op (whose shape-input reads, axis sets and checks cost 5–30 µs a run).
   */
  viewShapes: (readonly number[] | undefined)[];
  arenaBytes: number;
  /** Planned synchronous runs so far (segments are recorded at the second). */
  runs: number;
  /** The recorded segments, with the setMaxIsa count they were recorded under; null: none to record. */
  replay: { epoch: number; segments: ReplaySegment[] } | null | undefined;
}

/** Per-op timing of one profiled run. */
export interface OpTiming {
  node: string;
  op: string;
  ms: number;
}

const ALIGN = 64;
/** The index of the first feed that no longer holds its elements (detached or resized by the caller), or -1. */
export function lostFeed(feeds: readonly Value[]): number {
  for (let i = 0; i < feeds.length; i++) if (!holds(feeds[i].data, feeds[i].size)) return i;
  return -1;
}

/** Throws unless caller storage `name` (options.outputs) holds exactly the `size` elements of this run's output. */
export function checkStorageCount(fn: string, name: string, have: number, shape: readonly number[], size: number): void {
  if (have !== size) throw rangeError(fn, `options.outputs['${name}'] has ${have} elements, but this run's output has shape [${shape.join(', ')}] (${size} elements)`);
}

/** Graph outputs above this many bytes get a runner-made buffer (see Plan.freshOuts). */
const FRESH_MIN_BYTES = 4096;

/** Runs a graph: sync or async, with one cached memory plan per input-shape signature. */
export class GraphRunner {
  readonly steps: Step[];
  readonly slotOf = new Map<string, number>();
  readonly names: string[] = [];
  private readonly constVals: (Value | undefined)[] = [];
  readonly inputSlots: number[];
  readonly outputSlots: number[];
  private readonly plans = new Map<string, Plan | 'dynamic'>();
  /** Bytes of the largest arena planned so far. */
  arenaBytes = 0;

  constructor(readonly graph: Graph) {
    const slot = (name: string): number => {
      if (!name) return -1;
      let s = this.slotOf.get(name);
      if (s === undefined) {
        s = this.names.length;
        this.slotOf.set(name, s);
        this.names.push(name);
        this.constVals.push(graph.consts.get(name));
      }
      return s;
    };
    for (const c of graph.consts.keys()) slot(c);
    this.inputSlots = graph.inputs.map((i) => slot(i.name));
    this.steps = graph.nodes.map((node) => ({
      node,
      def: getOnnxOp(node.op, node.domain)!,
      ctx: { opset: graph.opset.get(node.domain) ?? 1 },
      ins: node.inputs.map(slot),
      outs: node.outputs.map(slot),
      args: new Array<Value | undefined>(node.inputs.length).fill(undefined),
    }));
    this.outputSlots = graph.outputs.map((o) => slot(o.name));
  }

  /** Number of plans cached. */
  get planCount(): number {
    return this.plans.size;
  }

  private signature(feeds: Value[]): string {
    return feeds.map((f) => f.shape.join('x')).join('|');
  }

  private check(vals: (Value | undefined)[]): void {
    for (const s of this.outputSlots) if (!vals[s]) throw rangeError(this.callFn, `output '${this.names[s]}' was not computed (is it produced by any node?)`);
  }

  /** Executes with fresh buffers, recording everything; returns all slot values. */
  private record(feeds: Value[], timing?: OpTiming[]): (Value | undefined)[] {
    const vals = this.constVals.slice();
    this.inputSlots.forEach((s, i) => (vals[s] = feeds[i]));
    for (const st of this.steps) this.exec(st, vals, undefined, timing);
    this.check(vals);
    return vals;
  }

  private exec(st: Step, vals: (Value | undefined)[], outs: (Value | undefined)[] | undefined, timing?: OpTiming[]): void {
    const t0 = timing || monitorHook.on ? performance.now() : 0;
    const ins = st.args;
    for (let i = 0; i < ins.length; i++) ins[i] = st.ins[i] < 0 ? undefined : this.input(st, vals, i);
    let res: Value[];
    try {
      const o = outs ?? (NO_OUTS as (Value | undefined)[]);
      // A planned run passes the same storage every time: a call the op kept (keepCall) reruns without its checks,
      // views and argument arrays. Not while the monitor is on: ops record their inner kernels there.
      const kept = monitorHook.on ? undefined : keptCall(st.node, ins, o);
      res = kept ?? st.def.run(st.node, ins, o, st.ctx);
    } finally {
      ins.fill(undefined); // hold no values (graph inputs, fresh outputs) past the run
    }
    for (let i = 0; i < st.outs.length; i++) {
      if (st.outs[i] < 0) continue;
      const planned = outs?.[i];
      // An op that ignored its planned buffer: copy in, so views planned over that storage stay right.
      if (planned && res[i] !== planned) (planned.data as Float32Array).set(res[i].data as Float32Array);
      vals[st.outs[i]] = planned ?? res[i];
    }
    this.done(st, t0, timing);
  }

  /** Input i (a connected one) of step `st`: an error naming the node when nothing has provided it. */
  private input(st: Step, vals: (Value | undefined)[], i: number): Value {
    const v = vals[st.ins[i]];
    if (!v) throw rangeError(this.callFn, `node '${st.node.name}' (${st.node.op}) reads '${this.names[st.ins[i]]}', which no node or input provides`);
    return v;
  }

  /** A planned alias step: its output is a view of its input's storage with the shape the plan recorded. */
  private view(st: Step, vals: (Value | undefined)[], shape: readonly number[], timing?: OpTiming[]): void {
    const t0 = timing || monitorHook.on ? performance.now() : 0;
    const x = this.input(st, vals, 0);
    vals[st.outs[0]] = mk(x.dtype, shape, x.data);
    this.done(st, t0, timing);
  }

  /** Records a finished step for the profile and the monitor. */
  private done(st: Step, t0: number, timing: OpTiming[] | undefined): void {
    if (timing) timing.push({ node: st.node.name, op: st.node.op, ms: performance.now() - t0 });
    if (monitorHook.on) monitorHook.record(`onnx.${st.node.op}`, st.node.domain || 'ai.onnx', t0);
  }

  /** Runs step i of a plan. */
  private step(plan: Plan, i: number, vals: (Value | undefined)[], timing?: OpTiming[]): void {
    const shape = plan.viewShapes[i];
    if (shape) this.view(plan.steps[i], vals, shape, timing);
    else this.exec(plan.steps[i], vals, this.outsOf(plan, i), timing);
  }

  /** The output buffers step i of a plan writes: the planned ones, with fresh buffers for graph outputs. */
  private outsOf(plan: Plan, i: number): (Value | undefined)[] {
    const fresh = plan.freshOuts[i];
    if (!fresh) return plan.stepOuts[i];
    const outs = plan.stepOuts[i].slice();
    const st = plan.steps[i];
    for (const f of fresh) outs[f.j] = markFresh(mk(f.dtype, f.shape, this.intoSlot?.get(st.outs[f.j]) ?? (allocOutput(f.dtype, f.size) as Float32Array)));
    return outs;
  }

  /** Builds the plan from a recorded run. */
  private freeze(vals: (Value | undefined)[]): Plan | 'dynamic' {
    const n = this.names.length;
    // Static: constants, shapes of inputs, and anything computed only from static values.
    const isStatic = new Array<boolean>(n).fill(false);
    this.constVals.forEach((v, i) => (isStatic[i] = !!v));
    const shapeOnly = (st: Step) => st.node.op === 'Shape' || st.node.op === 'Size';
    const run: Step[] = [];
    for (const st of this.steps) {
      const stat = shapeOnly(st) || st.ins.every((i) => i < 0 || isStatic[i]);
      if (stat) for (const o of st.outs) if (o >= 0) isStatic[o] = true;
      if (!stat) run.push(st);
    }
    for (const st of run) for (const i of st.def.shapeInputs ?? []) if (st.ins[i] !== undefined && st.ins[i] >= 0 && !isStatic[st.ins[i]]) return 'dynamic';
    const isOutput = new Set(this.outputSlots);
    const isInput = new Set(this.inputSlots);
    // Storage: each non-static produced slot gets its own, aliases share their base's; -1 = not in the arena.
    const storage = new Array<number>(n).fill(-1);
    const sizes: number[] = [];
    const liveAlias = new Set<Step>();
    const copyOut = new Set<number>();
    // A graph output that views (Identity, Reshape, …) a value computed by a non-view step (a model's final
    // Identity): that value gets a fresh buffer each run, as outputs do, instead of arena storage, and the output is
    // the view itself — no copy-out. Not when the value is itself an output or another output views it too (two
    // outputs would share one buffer).
    const producer = new Map<number, Step>();
    for (const st of run) for (const o of st.outs) if (o >= 0) producer.set(o, st);
    const outputViews = new Map<number, number>();
    for (const st of run) if (st.def.alias && st.ins[0] >= 0 && isOutput.has(st.outs[0])) outputViews.set(st.ins[0], (outputViews.get(st.ins[0]) ?? 0) + 1);
    const freshBase = new Set<number>();
    for (const [b, count] of outputViews) {
      const p = producer.get(b);
      if (count === 1 && p && !p.def.alias && !isOutput.has(b) && !isInput.has(b) && !isStatic[b]) freshBase.add(b);
    }
    for (const st of run) {
      st.outs.forEach((o, j) => {
        if (o < 0) return;
        if (isOutput.has(o)) {
          if (st.def.alias && j === 0 && !freshBase.has(st.ins[0])) copyOut.add(o);
          return;
        }
        if (freshBase.has(o)) return;
        if (st.def.alias && j === 0) {
          const base = st.ins[0];
          storage[o] = storage[base];
          if (storage[o] < 0) liveAlias.add(st); // base is an input, an output or static: re-view each run
          return;
        }
        const v = vals[o]!;
        storage[o] = sizes.length;
        sizes.push(Math.ceil((v.size * obytes(v.dtype)) / ALIGN) * ALIGN);
      });
    }
    // Lifetimes in step order; storage is freed after the step of its last reader.
    const first = new Array<number>(sizes.length).fill(-1), last = new Array<number>(sizes.length).fill(-1);
    run.forEach((st, t) => {
      for (const o of st.outs) if (o >= 0 && storage[o] >= 0 && first[storage[o]] < 0) first[storage[o]] = t;
      for (const i of st.ins) if (i >= 0 && storage[i] >= 0) last[storage[i]] = t;
      // A graph output that views an arena value is copied out after the last step: its base lives until then.
      if (st.def.alias && isOutput.has(st.outs[0]) && st.ins[0] >= 0 && storage[st.ins[0]] >= 0) last[storage[st.ins[0]]] = run.length;
    });
    const offset = new Array<number>(sizes.length).fill(0);
    let free: [number, number][] = [];
    let top = 0;
    run.forEach((_st, t) => {
      for (let s = 0; s < sizes.length; s++) {
        if (first[s] !== t) continue;
        let best = -1;
        for (let b = 0; b < free.length; b++) if (free[b][1] >= sizes[s] && (best < 0 || free[b][1] < free[best][1])) best = b;
        if (best >= 0) {
          offset[s] = free[best][0];
          free[best] = [free[best][0] + sizes[s], free[best][1] - sizes[s]];
          if (free[best][1] === 0) free.splice(best, 1);
        } else {
          offset[s] = top;
          top += sizes[s];
        }
      }
      for (let s = 0; s < sizes.length; s++) {
        if (!(last[s] === t || (last[s] < 0 && first[s] === t))) continue;
        free.push([offset[s], sizes[s]]);
        free.sort((a, b) => a[0] - b[0]);
        const merged: [number, number][] = [];
        for (const f of free) {
          const p = merged[merged.length - 1];
          if (p && p[0] + p[1] === f[0]) p[1] += f[1];
          else merged.push([f[0], f[1]]);
        }
        free = merged;
      }
    });
    const arena = new ArrayBuffer(Math.max(top, ALIGN));
    const fixed: (Value | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      if (isStatic[i] && !isInput.has(i)) fixed[i] = vals[i];
      else if (storage[i] >= 0) {
        const v = vals[i]!;
        fixed[i] = mk(v.dtype, v.shape, oview(v.dtype, arena, offset[storage[i]], v.size));
      }
    }
    const stepOuts = run.map((st) => st.outs.map((o) => (o >= 0 && !isOutput.has(o) && !(st.def.alias) ? fixed[o] : undefined)));
    // Alias steps whose views are fixed need not run at all.
    const steps = run.filter((st) => !st.def.alias || liveAlias.has(st) || st.outs.some((o) => isOutput.has(o)));
    const keptOuts = steps.map((st) => stepOuts[run.indexOf(st)]);
    // Fresh outputs the runner allocates: above the small-output size (those stay the op's own array) and of a
    // dtype allocOutput makes (int64/float64/bool outputs are left to the op).
    const freshOuts = steps.map((st) => {
      if (st.def.alias) return undefined;
      const list: Plan['freshOuts'][number] = [];
      st.outs.forEach((o, j) => {
        const v = vals[o];
        if (o < 0 || !v || !(isOutput.has(o) || freshBase.has(o)) || v.size * obytes(v.dtype) <= FRESH_MIN_BYTES) return;
        if (v.dtype === 'float32' || v.dtype === 'int32' || v.dtype === 'int8' || v.dtype === 'uint8') list!.push({ j, dtype: v.dtype, shape: v.shape.slice(), size: v.size });
      });
      return list!.length ? list : undefined;
    });
    // Only where the recorded run shows a true view: the same storage array and dtype as the base, no other output.
    const viewShapes = steps.map((st) => {
      if (!st.def.alias || st.outs[0] < 0 || st.ins[0] < 0 || st.outs.some((o, j) => j > 0 && o >= 0)) return undefined;
      const v = vals[st.outs[0]], base = vals[st.ins[0]];
      return v && base && v.data === base.data && v.dtype === base.dtype ? v.shape.slice() : undefined;
    });
    const outputs = this.outputSlots.map((slot) => ({ slot, value: vals[slot]! }));
    for (const o of outputs) if (copyOut.has(o.slot) || isStatic[o.slot] || isInput.has(o.slot)) copyOut.add(o.slot);
    this.copyOut = copyOut;
    this.arenaBytes = Math.max(this.arenaBytes, top);
    return { steps, stepOuts: keptOuts, freshOuts, fixed, outputs, liveAlias, viewShapes, arenaBytes: top, runs: 0, replay: undefined };
  }

  private copyOut = new Set<number>();

  private planFor(feeds: Value[]): { plan: Plan | 'dynamic' | undefined; sig: string } {
    const sig = this.signature(feeds);
    return { plan: this.plans.get(sig), sig };
  }

  /** Graph outputs that are views, constants or inputs become fresh copies (never arena or caller memory). */
  private collect(vals: (Value | undefined)[], fresh: boolean): Value[] {
    if (this.into || this.held) this.checkInto(this.outputSlots.map((s) => vals[s]!));
    return this.outputSlots.map((s, k) => {
      const v = vals[s]!;
      const into = this.into?.[k];
      if (into) return into === v.data ? v : this.copyInto(v, into);
      if (!fresh && !this.copyOut.has(s)) return v;
      const c = mk(v.dtype, v.shape);
      (c.data as Float32Array).set(v.data as Float32Array);
      return c;
    });
  }

  /**
   * Every output's caller storage against this run's computed outputs (count, element type), before any of it is
   * written: one wrong count must not leave the outputs before it already copied in (a throw with storage half-written).
   */
  private checkInto(outs: readonly Value[]): void {
    outs.forEach((v, k) => {
      const name = this.names[this.outputSlots[k]];
      const into = this.into?.[k];
      if (into) {
        checkStorageCount(this.intoFn, name, into.length, v.shape, v.size);
        if (into.constructor !== v.data.constructor) throw typeError(this.intoFn, `options.outputs['${name}'] is a ${into.constructor.name}, but this run computed ${v.dtype} (${v.data.constructor.name})`);
      }
      const held = this.held?.[k];
      if (held !== undefined) checkStorageCount(this.intoFn, name, held, v.shape, v.size);
    });
  }

  /** Output k's value copied into the caller's storage (checked by checkInto first). */
  private copyInto(v: Value, into: OData): Value {
    (into as Float32Array).set(v.data as Float32Array);
    return mk(v.dtype, v.shape, into);
  }

  /** Caller storage for the graph outputs of the run in progress (OnnxModel.run's `outputs`), by output index. */
  private into: readonly (OData | undefined)[] | undefined;
  /** The same by value slot: the planned step that writes a graph output writes it there. */
  private intoSlot: Map<number, OData> | undefined;
  /**
   * Element counts of caller storage the API fills itself after the run (int64 outputs, held as float64 inside), by
   * output index: checked with the runner's own storage, before anything is written.
   */
  private held: readonly (number | undefined)[] | undefined;
  /** Element counts of `into` when the run took it: a runAsync checks them after every await (see intact). */
  private intoLengths: number[] = [];
  /** The API call the run in progress serves, for errors about its storage. */
  private intoFn = 'OnnxModel.run';
  /** The API call the run in progress serves (run, runAsync, profile), for errors about the graph's values. */
  private callFn = 'OnnxModel.run';

  /**
   * Takes `into` as the caller's output storage for one run ({@link clearInto} after it, also when this throws). A
   * planned run checks every count here (int64 storage's `held` counts too), before any step writes; a recording
   * (first or dynamic) run computes into fresh buffers and copies at the end, after the same check (checkInto).
   */
  private setInto(fn: string, into: readonly (OData | undefined)[] | undefined, plan: Plan | 'dynamic' | undefined, held?: readonly (number | undefined)[]): void {
    this.intoFn = fn;
    this.into = into;
    this.held = held;
    if (plan && plan !== 'dynamic') this.checkInto(plan.outputs.map((o) => o.value));
    this.intoLengths = into ? into.map((d) => (d ? d.length : 0)) : [];
    const bySlot = new Map<number, OData>();
    into?.forEach((d, k) => {
      if (d && !bySlot.has(this.outputSlots[k])) bySlot.set(this.outputSlots[k], d);
    });
    this.intoSlot = bySlot;
  }

  private clearInto(): void {
    this.into = this.intoSlot = this.held = undefined;
  }

  /**
   * Throws unless every feed and every caller storage array still holds its elements. A runAsync's caller gets the
   * event loop back while the run is queued and at every await, and may detach (transfer) or resize a buffer the run
   * still reads or writes: the next step would read nothing (TypeScript ops compute NaN or 0 from a detached array)
   * or write nowhere. Checked before the first step and after each await; a few property reads.
   */
  private intact(fn: string, feeds: Value[]): void {
    const i = lostFeed(feeds);
    if (i >= 0)
      throw typeError(fn, `input '${this.names[this.inputSlots[i]]}' was detached or resized while the run was queued or in flight (it holds ${feeds[i].data.length} elements, the run needs ${feeds[i].size}); keep the feeds' buffers until runAsync settles`);
    if (!this.into) return;
    for (let k = 0; k < this.into.length; k++) {
      const d = this.into[k];
      if (d && !holds(d, this.intoLengths[k]))
        throw typeError(fn, `options.outputs['${this.names[this.outputSlots[k]]}'] was detached while the run was queued or in flight; keep output storage until runAsync settles (outputs written before this point are in it)`);
    }
  }

  /**
   * Runs synchronously. `into[k]`, when given, is the caller's storage for output k (its element type checked by
   * OnnxModel): the run writes that output there, and returns it as a view of it.
   */
  run(feeds: Value[], timing?: OpTiming[], into?: readonly (OData | undefined)[], fn = 'OnnxModel.run', held?: readonly (number | undefined)[]): Value[] {
    const { plan, sig } = this.planFor(feeds);
    this.callFn = fn;
    if (!into && !held) return this.runPlan(plan, sig, feeds, timing);
    try {
      this.setInto(fn, into, plan, held);
      return this.runPlan(plan, sig, feeds, timing);
    } finally {
      this.clearInto();
    }
  }

  private runPlan(plan: Plan | 'dynamic' | undefined, sig: string, feeds: Value[], timing?: OpTiming[]): Value[] {
    if (plan === undefined || plan === 'dynamic') {
      const vals = this.record(feeds, timing);
      const isFeedOrConst = (s: number) => this.inputSlots.includes(s) || !!this.constVals[s];
      const constBufs = new Set(this.constVals.filter((c): c is Value => !!c).map((c) => c.data.buffer));
      const res = this.outputSlots.map((s) => vals[s]!);
      if (plan === undefined) this.plans.set(sig, this.freeze(vals));
      if (this.into || this.held) this.checkInto(res);
      // A recorded run's outputs may alias inputs/constants or each other: copy those.
      const seen = new Set<ArrayBufferLike>();
      return res.map((v, i) => {
        const into = this.into?.[i];
        if (into) return this.copyInto(v, into);
        const s = this.outputSlots[i];
        const shared = isFeedOrConst(s) || seen.has(v.data.buffer) || constBufs.has(v.data.buffer) || this.feedBuffers(feeds).has(v.data.buffer);
        seen.add(v.data.buffer);
        if (!shared) return v;
        const c = mk(v.dtype, v.shape);
        (c.data as Float32Array).set(v.data as Float32Array);
        return c;
      });
    }
    const vals = this.begin(plan, feeds);
    const segs = timing ? undefined : this.replaySegments(plan, vals);
    if (!segs) for (let i = 0; i < plan.steps.length; i++) this.step(plan, i, vals, timing);
    else {
      for (let i = 0, s = 0; i < plan.steps.length; ) {
        const seg = segs[s];
        if (seg && seg.from === i) {
          native.runSteps(seg.steps, REPLAY_X, REPLAY_STAGE);
          i = seg.to;
          s++;
        } else this.step(plan, i++, vals);
      }
    }
    return this.collect(vals, false);
  }

  /** Times a plan's segments were recorded (for tests and diagnostics: once per plan, again after setMaxIsa). */
  replayRecordings = 0;

  /** Steps run by replayed segments, over every plan (for tests and diagnostics). */
  get replayedSteps(): number {
    let n = 0;
    for (const p of this.plans.values()) if (p !== 'dynamic' && p.replay) for (const g of p.replay.segments) n += g.to - g.from;
    return n;
  }

  /** The plan's replayed segments for this run (recording them at its second planned run), or undefined: step by step. */
  private replaySegments(plan: Plan, vals: (Value | undefined)[]): ReplaySegment[] | undefined {
    if (!REPLAY || monitorHook.on) return undefined;
    if (plan.replay && plan.replay.epoch !== maxIsaEpoch()) plan.replay = undefined; // kernels selected before setMaxIsa
    if (plan.replay === undefined) {
      if (plan.runs++ < 1) return undefined; // the first planned run keeps the calls
      plan.replay = this.recordSegments(plan, vals);
      this.replayRecordings++;
    }
    return plan.replay?.segments;
  }

  /**
   * Records each run of two or more consecutive steps whose kept call is native-only over memory the plan owns.
   * Recording runs nothing (the calls are parsed and stored): the caller then runs the segments for this run too.
   */
  private recordSegments(plan: Plan, vals: (Value | undefined)[]): Plan['replay'] {
    const inputs = new Set(this.inputSlots);
    const owned = (s: number) => s < 0 || (plan.fixed[s] !== undefined && !inputs.has(s));
    const callOf = (i: number): (() => void) | undefined => {
      if (i >= plan.steps.length) return undefined;
      const st = plan.steps[i], outs = plan.stepOuts[i];
      if (st.def.alias || plan.viewShapes[i] || plan.freshOuts[i] || !st.ins.every(owned)) return undefined;
      if (!st.outs.every((o, j) => o < 0 || outs[j] !== undefined)) return undefined;
      return keptReplay(st.node, st.ins.map((s) => (s < 0 ? undefined : vals[s])), outs);
    };
    const segments: ReplaySegment[] = [];
    for (let i = 0; i < plan.steps.length; ) {
      const calls: (() => void)[] = [];
      for (let c = callOf(i); c; c = callOf(i + calls.length)) calls.push(c);
      if (calls.length >= 2) {
        const h = new native.ChunkSteps(1, 1, 1);
        let ok = true;
        native.recordSteps(h, 0, 0);
        try {
          for (const c of calls) {
            const before = h.steps;
            c();
            if (h.steps === before) ok = false; // recorded nothing: not a native op call after all
          }
        } catch {
          ok = false; // a native function that does not record (a wrong nativeOnly mark): run step by step
        } finally {
          native.recordSteps(null, 0, 0);
        }
        if (ok) segments.push({ from: i, to: i + calls.length, steps: h });
      }
      i += Math.max(calls.length, 1);
    }
    return segments.length ? { epoch: maxIsaEpoch(), segments } : null;
  }

  private feedBuffers(feeds: Value[]): Set<ArrayBufferLike> {
    return new Set(feeds.map((f) => f.data.buffer));
  }

  private begin(plan: Plan, feeds: Value[]): (Value | undefined)[] {
    const vals = plan.fixed.slice();
    this.inputSlots.forEach((s, i) => (vals[s] = feeds[i]));
    return vals;
  }

  /** Runs with the heavy ops on the native pool, one after another; light ops run between them. */
  async runAsync(feeds: Value[], signal?: AbortSignal, into?: readonly (OData | undefined)[], held?: readonly (number | undefined)[]): Promise<Value[]> {
    const fn = 'OnnxModel.runAsync';
    const { plan } = this.planFor(feeds);
    this.callFn = fn;
    if (plan === undefined) {
      // The first run for these shapes records (synchronously) and plans; it is a normal run.
      if (signal?.aborted) throw abortError(fn, signal.reason);
      try {
        this.setInto(fn, into, undefined, held);
        this.intact(fn, feeds);
      } finally {
        this.clearInto();
      }
      return this.run(feeds, undefined, into, fn, held);
    }
    if (!into && !held) return this.runPlanAsync(plan, feeds, signal);
    try {
      this.setInto(fn, into, plan, held);
      return await this.runPlanAsync(plan, feeds, signal);
    } finally {
      this.clearInto();
    }
  }

  private async runPlanAsync(plan: Plan | 'dynamic', feeds: Value[], signal?: AbortSignal): Promise<Value[]> {
    let vals: (Value | undefined)[];
    let steps: Step[], outsOf: (i: number) => (Value | undefined)[] | undefined;
    if (plan === 'dynamic') {
      vals = this.constVals.slice();
      this.inputSlots.forEach((s, i) => (vals[s] = feeds[i]));
      steps = this.steps;
      outsOf = () => undefined;
    } else {
      const p = plan;
      vals = this.begin(p, feeds);
      steps = p.steps;
      outsOf = (i) => this.outsOf(p, i);
    }
    this.intact('OnnxModel.runAsync', feeds);
    for (let i = 0; i < steps.length; i++) {
      if (signal?.aborted) throw abortError('OnnxModel.runAsync', signal.reason);
      const st = steps[i];
      if (st.def.runAsync) {
        const t0 = monitorHook.on ? performance.now() : 0;
        const ins = st.ins.map((x) => (x < 0 ? undefined : vals[x]));
        const planned = outsOf(i);
        const res = await st.def.runAsync(st.node, ins, planned ?? [], st.ctx, signal);
        this.intact('OnnxModel.runAsync', feeds);
        st.outs.forEach((o, j) => {
          if (o < 0) return;
          if (planned?.[j] && res[j] !== planned[j]) (planned[j]!.data as Float32Array).set(res[j].data as Float32Array);
          vals[o] = planned?.[j] ?? res[j];
        });
        if (monitorHook.on) monitorHook.record(`onnx.${st.node.op}`, st.node.domain || 'ai.onnx', t0);
      } else if (plan === 'dynamic') this.exec(st, vals, undefined);
      else this.step(plan, i, vals);
    }
    if (plan === 'dynamic') {
      this.check(vals);
      return this.collect(vals, true);
    }
    return this.collect(vals, false);
  }
}
