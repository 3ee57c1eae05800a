/**
 * `loadOnnx` and `OnnxModel`: load, check every operator is supported (failing at load with the full list),
 * optimize, then run synchronously or on the native threads with a static memory plan per input shape.
 * @module
 */
import { describe, options, rangeError, typeError } from '../errors.js';
import { isDetached, Tensor } from '../tensor.js';
import { checkSignal } from '../ops/registry.js';
import { native } from '../native.js';
import { overlaps } from '../conv/conv2d.js';
import type { Graph, IOInfo } from './graph.js';
import { parseModel, readSource, isODType, type ModelSource } from './load.js';
import { checkStorageCount, GraphRunner, lostFeed, type OpTiming } from './plan.js';
import { PASSES } from './optimize.js';
import { getOnnxOp } from './ops/registry.js';
import { mk, numel, type OData, type ODType, type Value } from './value.js';
import './ops/elementwise.js';
import './ops/shape.js';
import './ops/math.js';
import './ops/quant.js';
import './ops/conv.js';
import './ops/conv-int8.js';

/** Highest ai.onnx opset the runtime implements. */
export const MAX_OPSET = 21;

/** Options of {@link loadOnnx}. */
export interface LoadOnnxOptions {
  /** Run the graph optimizations (default true); false runs the graph as written (for comparisons and tests). */
  optimize?: boolean;
  /** Skip these passes by name (see `model.optimizations`). */
  disable?: string[];
  /** Directory of external-data files (default: the model file's directory; required for bytes with external data). */
  baseDir?: string;
}

/** A model input or output: name, element type and dims (numbers, symbolic names, or null when unknown). */
export interface OnnxIO {
  name: string;
  dtype: ODType | string;
  dims: (number | string | null)[] | null;
}

/** A feed: one of our Tensors, or a plain `{ data, dims }` object as onnxruntime takes. */
export type OnnxFeed = Tensor | { data: ArrayBufferView; dims: readonly number[] } | { data: ArrayBufferView; shape: readonly number[] };

/** An output: a Tensor (int64 outputs hold a BigInt64Array with dtype 'int64'; bool a Uint8Array, dtype 'bool'). */
export type OnnxOutputs = Record<string, Tensor>;

/** Caller storage for one output: a typed array, a Tensor, or `{ data }` (as a feed; its dims are not used). */
export type OnnxOutputStorage = ArrayBufferView | Tensor | { data: ArrayBufferView };

/** Options of {@link OnnxModel.run} (and, with `signal`, of {@link OnnxModel.runAsync}). */
export interface OnnxRunOptions {
  /**
   * Storage the run writes some or all outputs into, by output name, instead of a fresh buffer per run: a typed
   * array of the output's element type (Float32Array for float32, BigInt64Array for int64, Uint8Array for bool …)
   * holding exactly the output's element count for this run's input shapes. The returned Tensor views it. A loop
   * that passes the same arrays every run allocates nothing per run: no page faults for fresh memory before V8's
   * first collection frees the earlier outputs (docs/memory.md). Checked before any node writes it: the element type
   * (TypeError), the count (RangeError naming both shapes), a detached or resizable buffer (TypeError), overlap
   * with a feed or with another output (RangeError).
   */
  outputs?: Record<string, OnnxOutputStorage>;
}

/** Checked caller output storage: the runner's by output index; int64 outputs' (held as float64 inside) apart. */
interface OutputStorage {
  runner?: (OData | undefined)[];
  int64?: (BigInt64Array | undefined)[];
  /** The int64 storage's element counts, for the runner to check with the rest before anything is written. */
  held?: (number | undefined)[];
}

const OUT_CTOR: Record<ODType, string> = { float32: 'Float32Array', float64: 'Float64Array', int64: 'BigInt64Array', int32: 'Int32Array', int8: 'Int8Array', uint8: 'Uint8Array', bool: 'Uint8Array' };

/** One optimization pass and how many rewrites it made on this model. */
export interface OptimizationReport {
  name: string;
  rewrites: number;
}

/** What {@link OnnxModel.profile} returns. */
export interface OnnxProfile {
  /** Wall time of the profiled run, ms. */
  totalMs: number;
  /** Every executed node, in order. */
  nodes: OpTiming[];
  /** Per op type: count and total ms, slowest first. */
  byOp: { op: string; count: number; ms: number }[];
}

const FN = 'OnnxModel.run';

function feedDType(data: ArrayBufferView): ODType | null {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Float64Array) return 'float64';
  return null;
}

/** A loaded ONNX model. */
export class OnnxModel {
  /** Graph inputs (initializers excluded). */
  readonly inputs: OnnxIO[];
  /** Graph outputs. */
  readonly outputs: OnnxIO[];
  /** The load-time passes that ran, with their rewrite counts. */
  readonly optimizations: OptimizationReport[];
  /** Opset per domain ('' = ai.onnx). */
  readonly opset: ReadonlyMap<string, number>;
  /** @internal */
  readonly runner: GraphRunner;
  /** @internal The file it was loaded from (the unfused graph that saveOnnx and the model transforms start from). */
  source: ModelSource | null = null;
  private busy = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal Use {@link loadOnnx}. */
  constructor(graph: Graph, optimizations: OptimizationReport[]) {
    const g = graph as unknown as Record<string, unknown> | null;
    if (g === null || typeof g !== 'object' || !Array.isArray(g.inputs) || !Array.isArray(g.outputs) || !Array.isArray(optimizations))
      throw typeError('OnnxModel', `instances are made by loadOnnx() or sequentialToOnnxModel(), not by calling the constructor (got ${describe(graph)})`);
    this.inputs = graph.inputs.map((i) => ({ ...i, dims: i.dims ? i.dims.slice() : null }));
    this.outputs = graph.outputs.map((o) => ({ ...o, dims: o.dims ? o.dims.slice() : null }));
    this.optimizations = optimizations;
    this.opset = graph.opset;
    this.runner = new GraphRunner(graph);
  }

  /** Node count by op type after optimization (e.g. `{ Linear: 12, LayerNorm: 5 }`). */
  get nodeCounts(): Record<string, number> {
    const m: Record<string, number> = {};
    for (const s of this.runner.steps) m[s.node.op] = (m[s.node.op] ?? 0) + 1;
    return m;
  }

  /** Bytes of the largest intermediate arena planned so far (0 before the first run). */
  get arenaBytes(): number {
    return this.runner.arenaBytes;
  }

  private feeds(fn: string, feeds: unknown): Value[] {
    if (!feeds || typeof feeds !== 'object') throw typeError(fn, `feeds must be an object of { inputName: tensor }, got ${describe(feeds)}`);
    const names = this.inputs.map((i) => i.name);
    for (const k of Object.keys(feeds)) if (!names.includes(k)) throw rangeError(fn, `unknown input '${k}'; the model's inputs are ${names.map((x) => `'${x}'`).join(', ')}`);
    const sym = new Map<string, number>();
    const vals = this.inputs.map((io) => {
      const f = (feeds as Record<string, unknown>)[io.name];
      if (f === undefined || f === null) throw rangeError(fn, `missing input '${io.name}' (${io.dtype} [${(io.dims ?? []).map((d) => d ?? '?').join(', ')}])`);
      let data: ArrayBufferView, dims: readonly number[];
      if (f instanceof Tensor) {
        data = f.data;
        dims = f.shape;
      } else {
        const o = f as { data?: unknown; dims?: unknown; shape?: unknown };
        if (!ArrayBuffer.isView(o.data)) throw typeError(fn, `input '${io.name}' must be a Tensor or { data: TypedArray, dims }, got ${describe(f)}`);
        data = o.data;
        const d = o.dims ?? o.shape;
        if (!Array.isArray(d) || d.some((x) => !Number.isInteger(x) || x < 0)) throw rangeError(fn, `input '${io.name}': dims must be an array of non-negative integers, got ${describe(d)}`);
        dims = d as number[];
      }
      let dt = feedDType(data);
      if (f instanceof Tensor && (f.dtype === 'float16' || f.dtype === 'bfloat16'))
        throw typeError(fn, `input '${io.name}' is ${f.dtype}; the model needs ${io.dtype}`);
      if (f instanceof Tensor && (f.dtype as string) === 'bool') dt = 'bool';
      if (io.dtype === 'bool' && data instanceof Uint8Array) dt = 'bool';
      if (!dt || dt !== io.dtype) throw typeError(fn, `input '${io.name}' must be ${io.dtype}${io.dtype === 'int64' ? ' (a BigInt64Array)' : ''}, got ${describe(data)}${dt ? ` (${dt})` : ''}`);
      const n = numel(dims);
      const len = (data as unknown as { length: number }).length;
      if (len !== n) throw rangeError(fn, `input '${io.name}': dims [${dims.join(', ')}] need ${n} elements, data has ${len}`);
      // A detached buffer has length 0, which dims with a 0 pass: ops that copy or view it would throw V8's own error.
      if (n === 0 && isDetached(data.buffer)) throw typeError(fn, `input '${io.name}''s buffer is detached (transferred away, or released by the scope() that made it)`);
      if (io.dims) {
        if (io.dims.length !== dims.length) throw rangeError(fn, `input '${io.name}' must have rank ${io.dims.length} ([${io.dims.map((d) => d ?? '?').join(', ')}]), got [${dims.join(', ')}]`);
        io.dims.forEach((want, i) => {
          if (typeof want === 'number' && want !== dims[i]) throw rangeError(fn, `input '${io.name}' dim ${i} must be ${want}, got ${dims[i]} ([${dims.join(', ')}])`);
          if (typeof want === 'string') {
            const seen = sym.get(want);
            if (seen !== undefined && seen !== dims[i]) throw rangeError(fn, `input '${io.name}' dim ${i} ('${want}') is ${dims[i]}, but another input set '${want}' to ${seen}`);
            sym.set(want, dims[i]);
          }
        });
      }
      const buf = data.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
      // runAsync hands feeds to native async ops, which refuse such buffers (naming their own argument) — and only on
      // planned runs (the first one records synchronously): refused here, on every run, naming the call and input.
      if (fn === 'OnnxModel.runAsync' && dt !== 'int64' && (buf.resizable === true || buf.growable === true))
        throw typeError(fn, `input '${io.name}' is backed by a ${buf.resizable ? 'resizable ArrayBuffer' : 'growable SharedArrayBuffer'}; runAsync needs fixed-length buffers (run accepts it)`);
      if (dt === 'int64') {
        // Natively: reading a BigInt64Array from JavaScript makes a BigInt per element (2.4 µs per 128 elements in a
        // microbenchmark; over whole BERT b1 runs the difference was within the run-to-run noise).
        const b = data as BigInt64Array, f = new Float64Array(b.length);
        native.onnxInt64ToF64(b, f);
        return mk('int64', dims, f);
      }
      return mk(dt, dims, data as never);
    });
    this.#intact(fn, vals);
    return vals;
  }

  /**
   * The caller's output storage (OnnxRunOptions.outputs) checked against the outputs' element types, the feeds and
   * each other: the runner's storage by output index (int64 outputs are held as float64 inside, so theirs is
   * filled by #results instead).
   */
  #into(fn: string, opts: unknown, vals: readonly Value[]): OutputStorage {
    if (opts === undefined || opts === null) return {};
    if (typeof opts !== 'object') throw typeError(fn, `options must be an object, got ${describe(opts)}`);
    const outs = (opts as OnnxRunOptions).outputs;
    if (outs === undefined) return {};
    if (!outs || typeof outs !== 'object') throw typeError(fn, `options.outputs must be an object of { outputName: TypedArray }, got ${describe(outs)}`);
    const names = this.outputs.map((o) => o.name);
    const runner: (OData | undefined)[] = new Array(names.length).fill(undefined);
    const int64: (BigInt64Array | undefined)[] = new Array(names.length).fill(undefined);
    // The feeds as the run will read them (int64 feeds are copies already), not read again from the caller's object.
    const taken: { name: string; data: ArrayBufferView }[] = vals.map((v, i) => ({ name: `input '${this.inputs[i].name}'`, data: v.data }));
    // Every caller getter runs here, before anything is checked: a getter that detaches another output's storage
    // read earlier is then caught by the checks below (one that detaches a feed, by #intact after this).
    const given: [string, unknown, unknown][] = [];
    for (const [name, st] of Object.entries(outs as Record<string, unknown>)) given.push([name, st, ArrayBuffer.isView(st) ? st : st instanceof Tensor ? st.data : (st as { data?: unknown } | null)?.data]);
    for (const [name, st, data] of given) {
      const k = names.indexOf(name);
      if (k < 0) throw rangeError(fn, `options.outputs: unknown output '${name}'; the model's outputs are ${names.map((x) => `'${x}'`).join(', ')}`);
      const arg = `options.outputs['${name}']`;
      if (!ArrayBuffer.isView(data) || data instanceof DataView) throw typeError(fn, `${arg} must be a typed array (or a Tensor / { data }), got ${describe(st)}`);
      const buf = data.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
      if (buf.resizable === true || buf.growable === true) throw typeError(fn, `${arg} is backed by a ${buf.resizable ? 'resizable ArrayBuffer' : 'growable SharedArrayBuffer'}; output storage needs a fixed-length buffer`);
      if (data.byteLength === 0 && isDetached(buf)) throw typeError(fn, `${arg}'s buffer is detached (transferred away, or released by the scope() that made it)`);
      const dtype = this.outputs[k].dtype as ODType;
      const want = OUT_CTOR[dtype];
      if (data.constructor.name !== want || (want === 'Uint8Array' && data instanceof Uint8ClampedArray))
        throw typeError(fn, `${arg} must be a ${want} (output '${name}' is ${dtype}), got ${describe(data)}`);
      for (const t of taken)
        if (overlaps(t.data, data))
          throw rangeError(fn, `${arg} overlaps ${t.name} (bytes ${data.byteOffset}..${data.byteOffset + data.byteLength} and ${t.data.byteOffset}..${t.data.byteOffset + t.data.byteLength} of one buffer)`);
      taken.push({ name: arg, data });
      if (dtype === 'int64') int64[k] = data as BigInt64Array;
      else runner[k] = data as OData;
    }
    const held = int64.some((d) => d) ? int64.map((d) => d?.length) : undefined;
    return { runner: runner.some((d) => d) ? runner : undefined, int64: held ? int64 : undefined, held };
  }

  /**
   * Throws unless every feed still holds its elements: a caller getter (a later feed's, or one of the options) may
   * have detached or resized a feed already checked, and ops would read nothing from it (NaN or 0 from TypeScript
   * loops, V8's own TypeError from copies). Called after the feeds and after the options are read.
   */
  #intact(fn: string, vals: readonly Value[]): void {
    const i = lostFeed(vals);
    if (i >= 0)
      throw typeError(fn, `input '${this.inputs[i].name}' was detached or resized while the call read its arguments (it holds ${vals[i].data.length} elements, the run needs ${vals[i].size})`);
  }

  #results(fn: string, vals: Value[], int64Into?: (BigInt64Array | undefined)[]): OnnxOutputs { // ES-private: not callable from JS with junk
    const res: OnnxOutputs = {};
    this.outputs.forEach((o, i) => {
      const v = vals[i];
      if (v.dtype === 'int64') {
        const into = int64Into?.[i];
        if (into) checkStorageCount(fn, o.name, into.length, v.shape, v.size);
        const b = into ?? new BigInt64Array(v.size);
        for (let j = 0; j < v.size; j++) b[j] = BigInt(v.data[j]);
        res[o.name] = new Tensor(b as never, v.shape.slice(), 'int64' as never, v.size);
      } else res[o.name] = v as unknown as Tensor;
    });
    return res;
  }

  /** Runs the model synchronously: `{ outputName: Tensor }` (written into `opts.outputs` where given). */
  run(feeds: Record<string, OnnxFeed>, opts?: OnnxRunOptions): OnnxOutputs {
    const vals = this.feeds(FN, feeds);
    const into = this.#into(FN, opts, vals);
    if (opts !== undefined) this.#intact(FN, vals); // its getters may have detached a feed
    if (this.busy) throw rangeError(FN, 'a runAsync of this model is in flight (its buffers are in use); await it first');
    return this.#results(FN, this.runner.run(vals, undefined, into.runner, FN, into.held), into.int64);
  }

  /**
   * Runs the model with the heavy ops on simdtensor's native threads, so the event loop stays free. Calls on one
   * model queue behind each other. `signal` aborts between ops (a GEMM already running finishes first).
   */
  runAsync(feeds: Record<string, OnnxFeed>, opts: OnnxRunOptions & { signal?: AbortSignal } = {}): Promise<OnnxOutputs> {
    const fn = 'OnnxModel.runAsync';
    let vals: Value[], signal: AbortSignal | undefined, into: OutputStorage;
    try {
      signal = checkSignal(fn, opts?.signal);
      vals = this.feeds(fn, feeds);
      into = this.#into(fn, opts, vals);
      this.#intact(fn, vals); // the options' getters may have detached a feed
    } catch (e) {
      return Promise.reject(e);
    }
    const go = async () => {
      this.busy = true;
      try {
        return this.#results(fn, await this.runner.runAsync(vals, signal, into.runner, into.held), into.int64);
      } finally {
        this.busy = false;
      }
    };
    const p = this.queue.then(go, go);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Runs once (synchronously) timing every node: per-node and per-op-type milliseconds. */
  profile(feeds: Record<string, OnnxFeed>): OnnxProfile {
    const vals = this.feeds('OnnxModel.profile', feeds);
    if (this.busy) throw rangeError('OnnxModel.profile', 'a runAsync of this model is in flight; await it first');
    const nodes: OpTiming[] = [];
    const t0 = performance.now();
    this.runner.run(vals, nodes, undefined, 'OnnxModel.profile');
    const totalMs = performance.now() - t0;
    const m = new Map<string, { op: string; count: number; ms: number }>();
    for (const t of nodes) {
      const e = m.get(t.op) ?? { op: t.op, count: 0, ms: 0 };
      e.count++;
      e.ms += t.ms;
      m.set(t.op, e);
    }
    return { totalMs, nodes, byOp: [...m.values()].sort((a, b) => b.ms - a.ms) };
  }
}

/** Every unsupported (domain, op) with its opset and first node, in one error. */
function checkOps(g: Graph): void {
  const bad = new Map<string, string>();
  for (const n of g.nodes) {
    const dom = n.domain || 'ai.onnx';
    const opset = g.opset.get(n.domain) ?? (n.domain === '' ? 1 : undefined);
    const def = getOnnxOp(n.op, n.domain);
    const range = def?.opsets ?? [1, MAX_OPSET];
    const ok = def && (n.domain !== '' || (opset !== undefined && opset >= range[0] && opset <= range[1]));
    const key = `${dom}::${n.op}`;
    if (!ok && !bad.has(key)) bad.set(key, `${n.op} (domain ${dom}, opset ${opset ?? 'not imported'}, first node '${n.name}')`);
  }
  if (bad.size > 0) throw typeError('loadOnnx', `the model uses ${bad.size} unsupported operator${bad.size > 1 ? 's' : ''}: ${[...bad.values()].join('; ')}`);
  const top = g.opset.get('') ?? 1;
  if (top > MAX_OPSET) throw typeError('loadOnnx', `the model imports ai.onnx opset ${top}; this runtime implements opsets up to ${MAX_OPSET}`);
  for (const n of g.nodes) getOnnxOp(n.op, n.domain)!.check?.(n, { opset: g.opset.get(n.domain) ?? 1 });
  // Every value must be defined before it is read (ONNX requires topological order).
  const known = new Set<string>([...g.consts.keys(), ...g.inputs.map((i) => i.name)]);
  for (const n of g.nodes) {
    for (const i of n.inputs)
      if (i && !known.has(i)) throw rangeError('loadOnnx', `node '${n.name}' (${n.op}) reads '${i}', which no graph input, initializer or earlier node defines`);
    for (const o of n.outputs) if (o) known.add(o);
  }
  for (const o of g.outputs) if (!known.has(o.name)) throw rangeError('loadOnnx', `graph output '${o.name}' is not produced by any node, input or initializer`);
  for (const io of [...g.inputs, ...g.outputs])
    if (!isODType(String(io.dtype))) throw typeError('loadOnnx', `${g.inputs.includes(io) ? 'input' : 'output'} '${io.name}' has element type ${io.dtype}, which this runtime does not support`);
}

/**
 * Loads an ONNX model from a file path or its bytes. Fails at load (TypeError) naming every unsupported operator
 * type with its domain, opset and first node; malformed files give a RangeError.
 */
export function loadOnnx(pathOrBytes: string | Uint8Array | ArrayBuffer, opts: LoadOnnxOptions | null = {}): OnnxModel {
  opts = options('loadOnnx', opts); // null / undefined mean no options (the API contract)
  if (opts.optimize !== undefined && typeof opts.optimize !== 'boolean') throw typeError('loadOnnx', `opts.optimize must be a boolean, got ${describe(opts.optimize)}`);
  const disable = opts.disable;
  if (disable !== undefined) {
    if (!Array.isArray(disable) || !disable.every((d) => typeof d === 'string'))
      throw typeError('loadOnnx', `opts.disable must be an array of pass names, got ${describe(disable)}`);
    const known = new Set(PASSES.map(([n]) => n));
    const bad = disable.find((d) => !known.has(d)); // a typo would silently leave the pass on
    if (bad !== undefined) throw rangeError('loadOnnx', `opts.disable: unknown pass '${bad}'; the passes are ${[...known].join(', ')}`);
  }
  const src = readSource(pathOrBytes, opts.baseDir);
  const g = parseModel(src.bytes, src.baseDir);
  checkOps(g);
  const report: OptimizationReport[] = [];
  if (opts.optimize !== false) {
    for (const [name, pass] of PASSES) {
      if (disable?.includes(name)) continue;
      const rewrites = pass(g);
      const prev = report.find((r) => r.name === name);
      if (prev) prev.rewrites += rewrites;
      else report.push({ name, rewrites });
    }
  }
  const model = new OnnxModel(g, report);
  // Bytes the caller owns are copied, so a later change to their buffer cannot alter what saveOnnx writes.
  model.source = typeof pathOrBytes === 'string' ? src : { bytes: src.bytes.slice(), baseDir: src.baseDir };
  return model;
}
