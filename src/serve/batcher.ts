/**
 * Dynamic batching of whole models (several named inputs and outputs of any dtype) on top of {@link BatchScheduler},
 * which batches one tensor: each request's inputs are packed, row by row, into one byte row, the scheduler
 * concatenates the rows of concurrent requests, the model runs once on the batch, and its outputs are packed the
 * same way and split back per request. `batchOnnx(model)` serves an {@link OnnxModel} whose first input dim is
 * dynamic; `DynamicBatcher` takes any {@link BatchableModel} (the `simdtensor serve` adapters, a test stub).
 * @module
 */
import { describe, ownKey, rangeError, typeError, options } from '../errors.js';
import { Tensor } from '../tensor.js';
import { BatchScheduler, SchedulerError, type BatchSchedulerOptions } from '../scheduler/index.js';
import { memoize, type Memoized } from '../cache/index.js';
import type { OnnxModel } from '../onnx/model.js';
import { rowCouplingNode } from '../onnx/optimize-int8.js';

/** Element types a served model may take or give (ONNX names). */
export type ServeDType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool';

/** A tensor on the wire: its dtype, shape and data (BigInt64Array for int64, Uint8Array of 0/1 for bool). */
export interface HostTensor {
  dtype: ServeDType;
  shape: number[];
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;
}

/** One input or output: name, dtype, and shape with -1 for a dynamic dim (the batch dim first when batchable). */
export interface TensorSpec {
  name: string;
  dtype: ServeDType;
  shape: number[];
}

/** A model the batcher can run: its inputs and outputs, and a run over a batch (first dim = rows). */
export interface BatchableModel {
  name?: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /**
   * True when the first dim of every input and output is the batch dim (requests are concatenated along it and
   * outputs split back). False: each request runs alone, as given.
   */
  batchable: boolean;
  /** Why a model whose shapes would batch runs each request alone (e.g. `onnxBatchable`'s dynamic quantization). */
  notBatchedBecause?: string;
  run(feeds: Record<string, HostTensor>, signal?: AbortSignal): Promise<Record<string, HostTensor>> | Record<string, HostTensor>;
}

/** Options of {@link DynamicBatcher}: the scheduler's, plus a response cache. */
export interface DynamicBatcherOptions extends Omit<BatchSchedulerOptions, 'rowShape' | 'dtype' | 'name'> {
  /** Name in statistics (default: the model's name, or `batcher-<n>`). */
  name?: string;
  /** Cache this many responses per input signature, keyed by the input bytes (default 0: no cache). */
  cache?: number;
  /** Most distinct input signatures (row shapes) at once, each with its own scheduler (default 16). */
  maxSignatures?: number;
  /** Called with the rows of every batch the model runs (for metrics). */
  onBatch?: (rows: number) => void;
}

/** Options of {@link DynamicBatcher.infer}. */
export interface InferOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const BYTES: Record<ServeDType, number> = { float32: 4, float64: 8, int8: 1, uint8: 1, int32: 4, int64: 8, bool: 1 };
type Ctor = { new (b: ArrayBuffer, off: number, len: number): HostTensor['data']; new (n: number): HostTensor['data'] };
const CTORS: Record<ServeDType, Ctor> = {
  float32: Float32Array as unknown as Ctor,
  float64: Float64Array as unknown as Ctor,
  int8: Int8Array as unknown as Ctor,
  uint8: Uint8Array as unknown as Ctor,
  int32: Int32Array as unknown as Ctor,
  int64: BigInt64Array as unknown as Ctor,
  bool: Uint8Array as unknown as Ctor,
};
/** The typed array each dtype is held in. */
export function dtypeArray(dt: ServeDType): Ctor {
  return CTORS[dt];
}
/** Bytes per element of a dtype. */
export function dtypeBytes(dt: ServeDType): number {
  return BYTES[dt];
}

const prod = (a: readonly number[], from = 0) => {
  let n = 1;
  for (let i = from; i < a.length; i++) n *= a[i];
  return n;
};

/** Per output: dtype and the shape of one row (batchable) or of the whole output. */
interface OutMeta {
  name: string;
  dtype: ServeDType;
  rowShape: number[];
  rowBytes: number;
}

/** One input signature (the row shapes of every input): its scheduler, cache and output layout. */
interface Signature {
  key: string;
  rowBytes: number;
  sched: BatchScheduler;
  submit: (t: Tensor, o: InferOptions) => Promise<Tensor>;
  memo: Memoized<Promise<Tensor>> | null;
  out: OutMeta[] | null;
  inputs: { name: string; dtype: ServeDType; rowShape: number[]; rowBytes: number }[];
  lastUsed: number;
}

let counter = 0;

/**
 * Serves a {@link BatchableModel} through {@link BatchScheduler}s: one per input signature (the shapes of every
 * input after the batch dim), so requests whose rows agree are batched together. `infer(feeds)` resolves with that
 * request's outputs. Errors: TypeError/RangeError for feeds that do not match the model (names, dtypes, ranks,
 * fixed dims, rows that disagree between inputs); the scheduler's {@link SchedulerError}s otherwise.
 */
export class DynamicBatcher {
  readonly model: BatchableModel;
  readonly name: string;
  private readonly schedOpts: BatchSchedulerOptions;
  private readonly cacheSize: number;
  private readonly maxSignatures: number;
  private readonly sigs = new Map<string, Signature>();
  private readonly onBatch: ((rows: number) => void) | undefined;
  private closing: Promise<void> | null = null;
  private tick = 0;
  /** The signature of the last request that went through the full checks (the fast path's guess). */
  private last: Signature | null = null;

  constructor(model: BatchableModel, opts: DynamicBatcherOptions | null = {}) {
    const fn = 'DynamicBatcher';
    opts = options(fn, opts);
    if (!model || typeof model !== 'object' || typeof model.run !== 'function' || !Array.isArray(model.inputs) || !Array.isArray(model.outputs))
      throw typeError(fn, `model must be { inputs, outputs, batchable, run(feeds) }, got ${describe(model)}`);
    if (model.inputs.length === 0) throw rangeError(fn, 'model has no inputs');
    for (const s of [...model.inputs, ...model.outputs])
      if (!s || typeof s.name !== 'string' || !ownKey(BYTES, s.dtype) || !Array.isArray(s.shape))
        throw typeError(fn, `every input and output needs { name, dtype (${Object.keys(BYTES).join(', ')}), shape }, got ${describe(s)}`);
    this.model = model;
    this.name = opts.name ?? model.name ?? `batcher-${++counter}`;
    if (typeof this.name !== 'string') throw typeError(fn, `opts.name must be a string, got ${describe(opts.name)}`);
    const cache = opts.cache ?? 0;
    if (typeof cache !== 'number' || !Number.isInteger(cache) || cache < 0) throw rangeError(fn, `opts.cache must be an integer >= 0, got ${describe(cache)}`);
    const maxSig = opts.maxSignatures ?? 16;
    if (typeof maxSig !== 'number' || !Number.isInteger(maxSig) || maxSig < 1) throw rangeError(fn, `opts.maxSignatures must be an integer >= 1, got ${describe(maxSig)}`);
    if (opts.onBatch !== undefined && typeof opts.onBatch !== 'function') throw typeError(fn, `opts.onBatch must be a function, got ${describe(opts.onBatch)}`);
    this.cacheSize = cache;
    this.maxSignatures = maxSig;
    this.onBatch = opts.onBatch;
    const { cache: _c, maxSignatures: _m, onBatch: _o, name: _n, ...sched } = opts;
    this.schedOpts = { ...sched, ...(model.batchable ? {} : { maxBatchSize: 1, preferredBatchSizes: [] }) };
    // Validate the scheduler options now (a throwaway scheduler), so a bad option fails here, not on the first request.
    new BatchScheduler(async (x) => x, { ...this.schedOpts, name: `${this.name}-check` }).close({ drain: false }).catch(() => undefined);
  }

  /** Requests queued in every scheduler. */
  get queueDepth(): number {
    let n = 0;
    for (const s of this.sigs.values()) n += s.sched.queueDepth;
    return n;
  }

  /** Batches running in every scheduler. */
  get runningBatches(): number {
    let n = 0;
    for (const s of this.sigs.values()) n += s.sched.runningBatches;
    return n;
  }

  /** Cache hits and misses summed over the signatures (zeros without a cache). */
  cacheStats(): { hits: number; misses: number; entries: number } {
    const r = { hits: 0, misses: 0, entries: 0 };
    for (const s of this.sigs.values())
      if (s.memo) {
        const c = s.memo.stats();
        r.hits += c.hits;
        r.misses += c.misses;
        r.entries += c.entries;
      }
    return r;
  }

  /**
   * Checks `feeds` against the model and queues them; resolves with this request's outputs. Never throws
   * synchronously: a malformed request rejects with a TypeError/RangeError naming the input.
   */
  infer(feeds: Record<string, HostTensor>, opts: InferOptions = {}): Promise<Record<string, HostTensor>> {
    return this.inferCached(feeds, opts).then((r) => r.outputs);
  }

  /** Like {@link infer}, also saying whether the response cache answered. */
  inferCached(feeds: Record<string, HostTensor>, opts: InferOptions = {}): Promise<{ outputs: Record<string, HostTensor>; cached: boolean }> {
    let sig: Signature, packed: Tensor, rows: number;
    try {
      if (this.closing) throw rangeError(`DynamicBatcher(${this.name}).infer`, 'the server is shutting down');
      ({ sig, packed, rows } = this.pack(feeds));
    } catch (e) {
      return Promise.reject(e);
    }
    if (!sig.memo) return sig.submit(packed, opts).then((t) => ({ outputs: this.unpack(sig, t, rows), cached: false }));
    const before = sig.memo.stats().hits;
    // The options of this call reach the scheduler through `pending` (memoize passes only the tensor).
    pendingOpts = opts;
    let p: Promise<Tensor>;
    try {
      p = sig.memo(packed);
    } finally {
      pendingOpts = null;
    }
    const cached = sig.memo.stats().hits > before;
    return p.then(
      (t) => ({ outputs: this.unpack(sig, t, rows), cached }),
      (e: unknown) => {
        // A hit on a pending entry shares the first caller's promise, and with it that caller's timeout and
        // signal: if those ended it, this request (whose own have not) runs by itself.
        if (cached && e instanceof SchedulerError && (e.code === 'aborted' || e.code === 'timeout') && !opts.signal?.aborted)
          return sig.submit(packed, opts).then((t) => ({ outputs: this.unpack(sig, t, rows), cached: false }));
        throw e;
      },
    );
  }

  /**
   * Like {@link inferCached}, for a server's hot path: `done(outputs, cached)` or `fail(error)` is called exactly
   * once, from one promise step after the batch (no promise of its own per request). Never throws; an exception
   * thrown by `done` goes to `fail`.
   */
  inferTo(feeds: Record<string, HostTensor>, opts: InferOptions, done: (outputs: Record<string, HostTensor>, cached: boolean) => void, fail: (e: unknown) => void): void {
    let sig: Signature, packed: Tensor, rows: number;
    try {
      if (this.closing) throw rangeError(`DynamicBatcher(${this.name}).infer`, 'the server is shutting down');
      ({ sig, packed, rows } = this.pack(feeds));
    } catch (e) {
      fail(e);
      return;
    }
    if (sig.memo) {
      this.inferCached(feeds, opts).then(
        (r) => done(r.outputs, r.cached),
        (e: unknown) => fail(e),
      );
      return;
    }
    sig.sched.submit(packed, opts).then(
      (t) => {
        let outs: Record<string, HostTensor>;
        try {
          outs = this.unpack(sig, t, rows);
        } catch (e) {
          fail(e);
          return;
        }
        try {
          done(outs, false);
        } catch (e) {
          fail(e);
        }
      },
      fail,
    );
  }

  /** Stops accepting requests; with drain (default) everything queued still runs. */
  close(opts: { drain?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (!this.closing) this.closing = Promise.all([...this.sigs.values()].map((s) => s.sched.close(opts))).then(() => undefined);
    return this.closing;
  }

  private pack(feeds: Record<string, HostTensor>): { sig: Signature; packed: Tensor; rows: number } {
    const fn = `${this.name}.infer`;
    if (!feeds || typeof feeds !== 'object') throw typeError(fn, `feeds must be an object of { inputName: tensor }, got ${describe(feeds)}`);
    const m = this.model;
    const ins = m.inputs;
    for (const k in feeds) {
      let known = false;
      for (let i = 0; i < ins.length && !known; i++) known = ins[i].name === k;
      if (!known) throw rangeError(fn, `unknown input '${k}'; the model's inputs are ${ins.map((i) => `'${i.name}'`).join(', ')}`);
    }
    let rows = -1;
    let key = '';
    const got: HostTensor[] = [];
    // The common case, a single input whose row shape is the last request's: that signature, no key string built.
    const last = this.last;
    if (last && ins.length === 1 && m.batchable && this.sigs.get(last.key) === last) {
      const f = feeds[ins[0].name];
      const rs = last.inputs[0].rowShape;
      const s = f?.shape;
      let same = !!f && f.dtype === ins[0].dtype && Array.isArray(s) && s.length === rs.length + 1 && s[0] >= 1 && f.data.length === s[0] * (last.inputs[0].rowBytes / BYTES[f.dtype]);
      for (let d = 0; same && d < rs.length; d++) same = s[d + 1] === rs[d];
      if (same) {
        last.lastUsed = ++this.tick;
        return { sig: last, packed: this.packOne(f, s[0], last.rowBytes), rows: s[0] };
      }
    }
    for (const spec of ins) {
      const f = feeds[spec.name];
      if (!f) throw rangeError(fn, `missing input '${spec.name}' (${spec.dtype} [${spec.shape.join(', ')}])`);
      if (f.dtype !== spec.dtype) throw typeError(fn, `input '${spec.name}' must be ${spec.dtype}, got ${f.dtype}`);
      const s = f.shape;
      if (s.length !== spec.shape.length) throw rangeError(fn, `input '${spec.name}' must have rank ${spec.shape.length} ([${spec.shape.join(', ')}]), got [${s.join(', ')}]`);
      for (let d = 0; d < s.length; d++)
        if (spec.shape[d] >= 0 && spec.shape[d] !== s[d] && !(m.batchable && d === 0))
          throw rangeError(fn, `input '${spec.name}' dim ${d} must be ${spec.shape[d]}, got ${s[d]} ([${s.join(', ')}])`);
      if (f.data.length !== prod(s)) throw rangeError(fn, `input '${spec.name}': shape [${s.join(', ')}] needs ${prod(s)} elements, data has ${f.data.length}`);
      if (m.batchable) {
        if (s[0] < 1) throw rangeError(fn, `input '${spec.name}' has ${s[0]} rows (shape [${s.join(', ')}]); at least 1 is needed`);
        if (rows >= 0 && s[0] !== rows) throw rangeError(fn, `input '${spec.name}' has ${s[0]} rows but '${ins[0].name}' has ${rows}: every input's first dim is the batch`);
        rows = s[0];
        key += s.length > 1 ? s.slice(1).join('x') + ';' : ';';
      } else key += s.join('x') + ';';
      got.push(f);
    }
    if (!m.batchable) rows = 1;
    const sig = this.signature(key, got, rows);
    this.last = sig;
    // One byte row per request row: the inputs' rows side by side. A single input is viewed, not copied.
    let packed: Tensor;
    if (got.length === 1) packed = this.packOne(got[0], rows, sig.rowBytes);
    else {
      const buf = new Uint8Array(rows * sig.rowBytes);
      let off = 0;
      for (let i = 0; i < got.length; i++) {
        const d = got[i].data;
        const rb = sig.inputs[i].rowBytes;
        const src = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
        for (let r = 0; r < rows; r++) buf.set(src.subarray(r * rb, (r + 1) * rb), r * sig.rowBytes + off);
        off += rb;
      }
      packed = new Tensor(buf, [rows, sig.rowBytes], 'uint8', buf.length);
    }
    return { sig, packed, rows };
  }

  /** A single input's bytes as the scheduler's byte rows (a view). */
  private packOne(f: HostTensor, rows: number, rowBytes: number): Tensor {
    const d = f.data;
    return new Tensor(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), [rows, rowBytes], 'uint8', rows * rowBytes);
  }

  private signature(key: string, got: HostTensor[], rows: number): Signature {
    let sig = this.sigs.get(key);
    if (sig) {
      sig.lastUsed = ++this.tick;
      return sig;
    }
    if (this.sigs.size >= this.maxSignatures) {
      // Retire the least recently used idle signature; if none is idle, refuse the new shape.
      let old: Signature | null = null;
      for (const s of this.sigs.values()) if (s.sched.queueDepth === 0 && s.sched.runningBatches === 0 && (!old || s.lastUsed < old.lastUsed)) old = s;
      if (!old)
        throw rangeError(`${this.name}.infer`, `${this.sigs.size} input shapes are in use at once (maxSignatures ${this.maxSignatures}); retry, or send the shapes the others use`);
      this.sigs.delete(old.key);
      old.memo?.clear();
      old.sched.close().catch(() => undefined);
    }
    const inputs = this.model.inputs.map((spec, i) => {
      const rowShape = this.model.batchable ? got[i].shape.slice(1) : got[i].shape.slice();
      return { name: spec.name, dtype: spec.dtype, rowShape, rowBytes: prod(rowShape) * BYTES[spec.dtype] };
    });
    const rowBytes = inputs.reduce((a, b) => a + b.rowBytes, 0);
    if (rowBytes === 0) throw rangeError(`${this.name}.infer`, 'every input is empty (0 elements per row)');
    void rows;
    const s: Signature = {
      key,
      rowBytes,
      inputs,
      out: null,
      lastUsed: ++this.tick,
      memo: null,
      sched: null as unknown as BatchScheduler,
      submit: null as unknown as Signature['submit'],
    };
    s.sched = new BatchScheduler((batch) => this.runBatch(s, batch), {
      ...this.schedOpts,
      name: this.sigs.size === 0 ? this.name : `${this.name}[${key}]`,
      rowShape: [rowBytes],
      dtype: 'uint8',
    });
    s.submit = (t, o) => s.sched.submit(t, o);
    if (this.cacheSize > 0)
      s.memo = memoize((t: Tensor) => s.sched.submit(t, pendingOpts ?? undefined), { maxEntries: this.cacheSize, name: `${this.name}-cache${this.sigs.size ? `[${key}]` : ''}` });
    this.sigs.set(key, s);
    return s;
  }

  /**
   * Unpacks a batch into one feed per input, runs the model, packs its outputs into one byte row per batch row.
   * A model whose run returns its outputs directly (not a promise) is answered synchronously: one promise step less.
   */
  private runBatch(s: Signature, batch: Tensor): Promise<Tensor> | Tensor {
    const rows = batch.shape[0];
    this.onBatch?.(rows);
    const bytes = batch.data as Uint8Array;
    const feeds: Record<string, HostTensor> = {};
    const batchable = this.model.batchable;
    if (s.inputs.length === 1) {
      const i = s.inputs[0];
      const shape = batchable ? [rows, ...i.rowShape] : i.rowShape.slice();
      let data: HostTensor['data'];
      const el = BYTES[i.dtype];
      if (bytes.byteOffset % el === 0) data = new CTORS[i.dtype](bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / el);
      else {
        const c = bytes.slice();
        data = new CTORS[i.dtype](c.buffer, 0, c.byteLength / el);
      }
      feeds[i.name] = { dtype: i.dtype, shape, data };
    } else {
      let off = 0;
      for (const i of s.inputs) {
        const buf = new Uint8Array(rows * i.rowBytes);
        for (let r = 0; r < rows; r++) buf.set(bytes.subarray(r * s.rowBytes + off, r * s.rowBytes + off + i.rowBytes), r * i.rowBytes);
        off += i.rowBytes;
        feeds[i.name] = { dtype: i.dtype, shape: batchable ? [rows, ...i.rowShape] : i.rowShape.slice(), data: new CTORS[i.dtype](buf.buffer, 0, buf.byteLength / BYTES[i.dtype]) };
      }
    }
    const res = this.model.run(feeds);
    if (res && typeof (res as Promise<unknown>).then === 'function') return Promise.resolve(res).then((r) => this.packOutputs(s, r, rows));
    return this.packOutputs(s, res as Record<string, HostTensor>, rows);
  }

  /** A batch's outputs → one byte row per batch row (every output's row side by side). */
  private packOutputs(s: Signature, res: Record<string, HostTensor>, rows: number): Tensor {
    const batchable = this.model.batchable;
    const fn = `${this.name}: the model`;
    if (!res || typeof res !== 'object') throw typeError(fn, `returned ${describe(res)}, not an object of outputs`);
    const outs = this.model.outputs;
    for (const o of outs) {
      const t = res[o.name];
      if (!t || !ArrayBuffer.isView(t.data) || !Array.isArray(t.shape)) throw typeError(fn, `returned no tensor for output '${o.name}'`);
      if (batchable && t.shape[0] !== rows) throw rangeError(fn, `output '${o.name}' has shape [${t.shape.join(', ')}] for a batch of ${rows} rows; its first dim must be the batch`);
    }
    // The layout of the first batch is kept; later ones must match it (compared in place, nothing built).
    let meta = s.out;
    if (!meta || !sameLayout(meta, res, batchable)) {
      const now: OutMeta[] = outs.map((o) => {
        const t = res[o.name];
        const rowShape = batchable ? t.shape.slice(1) : t.shape.slice();
        return { name: o.name, dtype: t.dtype, rowShape, rowBytes: prod(rowShape) * BYTES[t.dtype] };
      });
      if (meta)
        throw rangeError(fn, `output shapes changed between batches of the same input shapes (${now.map((m) => `${m.name} [${m.rowShape}]`).join(', ')} vs ${meta.map((m) => `${m.name} [${m.rowShape}]`).join(', ')})`);
      meta = s.out = now;
    }
    const outRow = meta.reduce((a, b) => a + b.rowBytes, 0);
    const n = batchable ? rows : 1;
    if (meta.length === 1) {
      const d = res[meta[0].name].data;
      return new Tensor(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), [n, outRow], 'uint8', n * outRow);
    }
    const buf = new Uint8Array(n * outRow);
    let off = 0;
    for (const m of meta) {
      const d = res[m.name].data;
      const src = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      for (let r = 0; r < n; r++) buf.set(src.subarray(r * m.rowBytes, (r + 1) * m.rowBytes), r * outRow + off);
      off += m.rowBytes;
    }
    return new Tensor(buf, [n, outRow], 'uint8', buf.length);
  }

  /** A request's output rows (one byte row per input row) → its named outputs. */
  private unpack(s: Signature, t: Tensor, rows: number): Record<string, HostTensor> {
    const meta = s.out!;
    const bytes = t.data as Uint8Array;
    const outRow = t.shape[1];
    const res: Record<string, HostTensor> = {};
    const batchable = this.model.batchable;
    if (meta.length === 1) {
      const m = meta[0];
      const el = BYTES[m.dtype];
      const src = bytes.byteOffset % el === 0 ? bytes : bytes.slice();
      res[m.name] = { dtype: m.dtype, shape: batchable ? [rows, ...m.rowShape] : m.rowShape.slice(), data: new CTORS[m.dtype](src.buffer as ArrayBuffer, src.byteOffset, src.byteLength / el) };
      return res;
    }
    let off = 0;
    for (const m of meta) {
      const buf = new Uint8Array(rows * m.rowBytes);
      for (let r = 0; r < rows; r++) buf.set(bytes.subarray(r * outRow + off, r * outRow + off + m.rowBytes), r * m.rowBytes);
      off += m.rowBytes;
      res[m.name] = { dtype: m.dtype, shape: batchable ? [rows, ...m.rowShape] : m.rowShape.slice(), data: new CTORS[m.dtype](buf.buffer, 0, buf.byteLength / BYTES[m.dtype]) };
    }
    return res;
  }
}

/** Whether a batch's outputs have the kept layout: each output's dtype and row shape (its dims after the batch dim). */
function sameLayout(meta: readonly OutMeta[], res: Record<string, HostTensor>, batchable: boolean): boolean {
  for (const m of meta) {
    const t = res[m.name];
    const s = t.shape;
    const from = batchable ? 1 : 0;
    if (t.dtype !== m.dtype || s.length - from !== m.rowShape.length) return false;
    for (let d = 0; d < m.rowShape.length; d++) if (s[d + from] !== m.rowShape[d]) return false;
  }
  return true;
}

/** The options of the memoized call in flight (memoize passes its function only the tensor). */
let pendingOpts: InferOptions | null = null;

/** ONNX dtype → ours (ONNX names already; anything else is unsupported). */
function onnxDType(fn: string, what: string, dt: string): ServeDType {
  if (ownKey(BYTES, dt)) return dt;
  throw typeError(fn, `${what} has element type ${dt}, which cannot be served`);
}

/**
 * An {@link OnnxModel} as a {@link BatchableModel}: batchable when every input's and output's first dim is dynamic
 * (symbolic or unknown), else each request runs alone. The model runs with `runAsync` (heavy ops on the native
 * threads, the event loop stays free).
 */
export function onnxBatchable(model: OnnxModel, name?: string): BatchableModel {
  const fn = 'onnxBatchable';
  if (!model || typeof model !== 'object' || typeof (model as OnnxModel).runAsync !== 'function') throw typeError(fn, `model must be an OnnxModel (loadOnnx), got ${describe(model)}`);
  const dyn = (d: number | string | null | undefined) => typeof d !== 'number';
  const spec = (io: OnnxModel['inputs'][number], what: string): TensorSpec => ({
    name: io.name,
    dtype: onnxDType(fn, `${what} '${io.name}'`, String(io.dtype)),
    shape: (io.dims ?? []).map((d) => (typeof d === 'number' ? d : -1)),
  });
  const inputs = model.inputs.map((i) => spec(i, 'input'));
  const outputs = model.outputs.map((o) => spec(o, 'output'));
  const shapesBatch =
    model.inputs.every((i) => i.dims !== null && i.dims.length >= 1 && dyn(i.dims[0])) && model.outputs.every((o) => o.dims === null || (o.dims.length >= 1 && dyn(o.dims[0])));
  // A dynamic activation quantization takes one scale over the whole batch: one caller's rows would change the
  // others' results (slightly for ordinary values; to zeros for a row holding 1000 or Infinity). Such a model runs
  // each request alone, so a response never depends on who else was queued.
  const graph = (model as Partial<OnnxModel>).runner?.graph;
  const coupling = shapesBatch && graph ? rowCouplingNode(graph) : null;
  const batchable = shapesBatch && !coupling;
  return {
    name,
    inputs,
    outputs,
    batchable,
    ...(coupling
      ? { notBatchedBecause: `node '${coupling.name}' (${coupling.op}) quantizes its input with one scale over the whole batch, so concatenated requests would change each other's results` }
      : {}),
    async run(feeds, signal) {
      const f: Record<string, { data: ArrayBufferView; dims: number[] }> = {};
      for (const k in feeds) f[k] = { data: feeds[k].data, dims: feeds[k].shape };
      const out = await model.runAsync(f, signal ? { signal } : {});
      const res: Record<string, HostTensor> = {};
      for (const o of model.outputs) {
        const t = out[o.name];
        res[o.name] = { dtype: onnxDType(fn, `output '${o.name}'`, String(t.dtype)), shape: t.shape.slice(), data: t.data as HostTensor['data'] };
      }
      return res;
    },
  };
}

/**
 * Serves an {@link OnnxModel} through dynamic batching: `batchOnnx(model).infer({ x: { dtype, shape, data } })`.
 * With a dynamic first input dim, concurrent requests are concatenated along it (one `runAsync` per batch) and
 * the outputs split back; otherwise requests run one at a time through the same queue, timeout and abort logic.
 */
export function batchOnnx(model: OnnxModel, opts: DynamicBatcherOptions | null = {}): DynamicBatcher {
  const fn = 'batchOnnx';
  opts = options(fn, opts);
  if (!model || typeof model !== 'object' || typeof (model as OnnxModel).runAsync !== 'function') throw typeError(fn, `model must be an OnnxModel (loadOnnx), got ${describe(model)}`);
  return new DynamicBatcher(onnxBatchable(model, opts.name), opts);
}
