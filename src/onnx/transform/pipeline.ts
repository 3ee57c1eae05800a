/**
 * The ONNX optimize pipeline behind `simdtensor optimize model.onnx`: prune → int8 (dynamic or static) → half
 * weights, each stage applied to the previous one's result, and per stage the file size, latency (batch 1 and 8,
 * one thread) in simdtensor and in onnxruntime-node (when installed), and the drift of the outputs against the
 * original model (max/mean abs error, cosine similarity, top-1 agreement along the last axis).
 *
 * The transforms work on the file itself, so a model that `loadOnnx` cannot run yet (an operator it lacks) is still
 * optimized and measured in onnxruntime; its simdtensor columns say why they are empty.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { describe, rangeError, typeError } from '../../errors.js';
import { getNumThreads, setNumThreads } from '../../executor/threads.js';
import { loadOnnx, type OnnxModel } from '../model.js';
import { convertEdit } from './convert.js';
import { EditModel, type Msg } from './proto.js';
import { pruneEdit, type PrunedLayer } from './prune.js';
import { calibrationProbe, convInputPixels, quantizeEdit, roundingMoments, type OnnxCalibration } from './quantize.js';
import type { CalibrationMethod } from '../../int8/index.js';
import { Tensor } from '../../tensor.js';
import { gatherRows, permutation, predict } from '../../nn/train.js';
import { distillOnnx, agreement, teacherLogits } from './distill.js';
import { sequentialToOnnx } from './to-nn.js';

/** A feed in plain form: element type, data and dims. */
export interface PlainFeed {
  type: 'float32' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;
  dims: number[];
}
export type Feeds = Record<string, PlainFeed>;

/** Options of {@link optimizeOnnx}. */
export interface OnnxOptimizeOptions {
  /** Model file. */
  model: string;
  int8?: 'dynamic' | 'static';
  /** Calibration feeds for static int8 (default: 8 random batches). */
  calibration?: Feeds[];
  calibrationMethod?: CalibrationMethod;
  /**
   * Sample feeds for error-compensating rounding of the int8 weights (`quantizeModel`'s `roundingSamples`,
   * GPTQ-style); default plain rounding to nearest.
   */
  roundingSamples?: Feeds[];
  weightType?: 'int8' | 'uint8';
  /** Dynamic int8 Conv form (see OnnxQuantizeOptions.convForm). */
  convForm?: 'integer' | 'weight-only' | 'auto';
  prune?: number;
  pattern?: string;
  scope?: 'layer' | 'global';
  half?: 'float16' | 'bfloat16';
  /** Comparison inputs (default: random inputs of the model's shapes, batch 1). */
  inputs?: Feeds;
  /** Values of symbolic dims for random inputs (default: batch 1/8, 64 for image sides, 32 otherwise). */
  dims?: Record<string, number>;
  /** Output folder (null: write nothing). */
  outDir?: string | null;
  /** Skip latency measurement. */
  noLatency?: boolean;
  /** Milliseconds of timed runs per latency figure (default 400). */
  latencyMs?: number;
  onProgress?: (line: string) => void;
  /** Distil the model into an MLP student with these hidden sizes first (needs `distillData`); later stages apply to the student. */
  distill?: number[];
  /** Rows to distil on ([rows, features] float32, flattened per row) and, when labeled, their classes. */
  distillData?: { x: Tensor; y?: Int32Array };
  /** Distillation epochs (default 30). */
  distillEpochs?: number;
}

/** Drift of one output against the original model. */
export interface Drift {
  output: string;
  maxAbs: number;
  meanAbs: number;
  cosine: number;
  /** Fraction of rows (all but the last axis) whose argmax agrees; null for a last axis of 1. */
  top1: number | null;
}

/** One stage of the report. */
export interface OnnxStageReport {
  stage: string;
  bytes: number;
  /** Process CPU ms per run (median), batch 1 and 8, one thread; null where not measured. */
  simdtensor: { b1: number | null; b8: number | null; error?: string };
  onnxruntime: { b1: number | null; b8: number | null; error?: string };
  drift: Drift[];
  /** What the stage did (nodes rewritten, sparsity, ...). */
  detail: string;
}

/** The report written as report.json. */
export interface OnnxOptimizeReport {
  model: string;
  output: string | null;
  stages: OnnxStageReport[];
  inputs: Record<string, number[]>;
  seconds: number;
  notes: string[];
}

const FN = 'optimize';

// ---------------------------------------------------------------------------------------------------------------
// Inputs

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** Random feeds for the model's declared inputs (symbolic dims from `dims`, the first one = batch). */
export function randomFeeds(graph: Msg, batch: number, dims: Record<string, number> = {}, seed = 1): Feeds {
  const inits = new Set(((graph.initializer as Msg[]) ?? []).map((t) => t.name));
  const rnd = lcg(seed);
  const feeds: Feeds = {};
  for (const io of (graph.input as Msg[]) ?? []) {
    if (inits.has(io.name)) continue;
    const tt = io.type?.tensorType;
    if (!tt) throw typeError(FN, `input '${io.name}' is not a tensor; give inputs with --input`);
    const ds = ((tt.shape?.dim as Msg[]) ?? []);
    const shape = ds.map((d, i) => {
      const v = d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : 0;
      if (v > 0) return v;
      const name = d.dimParam as string | undefined;
      if (name && dims[name] !== undefined) return dims[name];
      if (i === 0) return batch;
      return ds.length === 4 && i >= 2 ? 64 : 32;
    });
    const n = shape.reduce((a, b) => a * b, 1);
    const code = Number(tt.elemType);
    const lname = String(io.name).toLowerCase();
    if (code === 1) feeds[io.name] = { type: 'float32', data: Float32Array.from({ length: n }, () => rnd() * 2 - 1), dims: shape };
    else if (code === 7) feeds[io.name] = { type: 'int64', data: BigInt64Array.from({ length: n }, () => (lname.includes('mask') ? 1n : BigInt(Math.floor(rnd() * 16)))), dims: shape };
    else if (code === 6) feeds[io.name] = { type: 'int32', data: Int32Array.from({ length: n }, () => (lname.includes('mask') ? 1 : Math.floor(rnd() * 16))), dims: shape };
    else if (code === 9) feeds[io.name] = { type: 'bool', data: new Uint8Array(n).fill(1), dims: shape };
    else throw typeError(FN, `input '${io.name}' has element type ${code}; random inputs cover float32, int64, int32 and bool (give --input)`);
  }
  return feeds;
}

/** Reads comparison inputs: .json ({ name: { data, dims, type? } } or an array of those), .npy (one input), .csv (one 2-D float input). */
export function readInputs(file: string, graph: Msg): Feeds[] {
  const ins = ((graph.input as Msg[]) ?? []).filter((i) => !((graph.initializer as Msg[]) ?? []).some((t) => t.name === i.name));
  const ext = extname(file).toLowerCase();
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw rangeError(FN, `cannot read inputs '${file}' (${(e as Error).message})`);
  }
  const typeOf = (name: string): PlainFeed['type'] => {
    const io = ins.find((i) => i.name === name);
    const code = Number(io?.type?.tensorType?.elemType ?? 1);
    return code === 7 ? 'int64' : code === 6 ? 'int32' : code === 9 ? 'bool' : code === 2 ? 'uint8' : code === 3 ? 'int8' : 'float32';
  };
  const make = (name: string, data: ArrayLike<number> | ArrayLike<bigint>, dims: number[]): PlainFeed => {
    const t = typeOf(name);
    const arr = Array.from(data as ArrayLike<number>);
    const d = t === 'int64' ? BigInt64Array.from(arr.map((v) => BigInt(Math.trunc(Number(v))))) : t === 'int32' ? Int32Array.from(arr) : t === 'uint8' || t === 'bool' ? Uint8Array.from(arr) : t === 'int8' ? Int8Array.from(arr) : Float32Array.from(arr);
    if (arr.length !== dims.reduce((a, b) => a * b, 1)) throw rangeError(FN, `input '${name}' in '${file}': dims [${dims.join(', ')}] need ${dims.reduce((a, b) => a * b, 1)} values, got ${arr.length}`);
    return { type: t, data: d, dims };
  };
  if (ext === '.json') {
    let j: unknown;
    try {
      j = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw rangeError(FN, `'${file}' is not valid JSON (${(e as Error).message})`);
    }
    const list = Array.isArray(j) ? j : [j];
    return list.map((f, k) => {
      if (!f || typeof f !== 'object') throw typeError(FN, `'${file}' entry ${k} must be { inputName: { data, dims } }`);
      const out: Feeds = {};
      for (const [name, v] of Object.entries(f as Record<string, { data: number[]; dims: number[] }>)) {
        if (!v || !Array.isArray(v.data) || !Array.isArray(v.dims)) throw typeError(FN, `'${file}': input '${name}' must be { data: number[], dims: number[] }`);
        out[name] = make(name, v.data, v.dims);
      }
      return out;
    });
  }
  if (ins.length !== 1) throw rangeError(FN, `a ${ext} input file feeds one input; the model has ${ins.length} (use .json)`);
  const name = ins[0].name as string;
  if (ext === '.npy') {
    if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw rangeError(FN, `'${file}' is not a .npy file`);
    // Format 1.x: a 2-byte header length at offset 8; 2.x and 3.x: 4 bytes.
    const hlen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
    const hstart = buf[6] === 1 ? 10 : 12;
    const header = buf.toString('latin1', hstart, hstart + hlen);
    const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
    const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (/'fortran_order':\s*True/.test(header)) throw rangeError(FN, `'${file}': Fortran-order arrays are not supported`);
    const body = buf.subarray(hstart + hlen);
    const ab = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
    const data = descr === '<f4' ? new Float32Array(ab) : descr === '<f8' ? new Float64Array(ab) : descr === '<i8' ? Array.from(new BigInt64Array(ab), Number) : descr === '<i4' ? new Int32Array(ab) : null;
    if (!data) throw rangeError(FN, `'${file}': dtype ${descr} is not supported (<f4, <f8, <i8, <i4)`);
    return [{ [name]: make(name, data as ArrayLike<number>, shape) }];
  }
  if (ext === '.csv') {
    const rows = buf.toString('utf8').trim().split(/\r?\n/).map((l) => l.split(',').map(Number));
    if (rows.some((r) => r.some((v) => !Number.isFinite(v)))) throw rangeError(FN, `'${file}': every CSV cell must be a number (no header)`);
    return [{ [name]: make(name, rows.flat(), [rows.length, rows[0].length]) }];
  }
  throw rangeError(FN, `inputs file '${file}' must be .json, .npy or .csv`);
}

/**
 * Sample feeds from a file ({@link readInputs}: a .json array of feeds, a .npy or .csv batch for a one-input model)
 * or from every .json/.npy/.csv file of a folder, in name order (each file gives its feeds).
 */
export function readSamples(path: string, graph: Msg): Feeds[] {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch (e) {
    throw rangeError(FN, `cannot read inputs '${path}' (${(e as Error).message})`);
  }
  if (!dir) return readInputs(path, graph);
  const files = readdirSync(path).filter((f) => /\.(json|npy|csv)$/i.test(f)).sort();
  if (!files.length) throw rangeError(FN, `folder '${path}' holds no .json, .npy or .csv input file`);
  return files.flatMap((f) => readInputs(join(path, f), graph));
}

/** The batch-8 form of batch-1 feeds: each input repeated along its first (symbolic) dim, or null when it is fixed. */
function batched(graph: Msg, feeds: Feeds, batch: number): Feeds | null {
  const out: Feeds = {};
  for (const [name, f] of Object.entries(feeds)) {
    const io = ((graph.input as Msg[]) ?? []).find((i) => i.name === name);
    const d0 = io?.type?.tensorType?.shape?.dim?.[0];
    if (d0 && d0.dimValue !== undefined && d0.dimValue !== null && Number(d0.dimValue) > 0) return null;
    const data = new (f.data.constructor as new (n: number) => PlainFeed['data'])(f.data.length * batch);
    for (let b = 0; b < batch; b++) (data as Float32Array).set(f.data as Float32Array, b * f.data.length);
    out[name] = { type: f.type, data, dims: [f.dims[0] * batch, ...f.dims.slice(1)] };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Runners

type Ort = typeof import('onnxruntime-node');
let ortMod: Ort | null | undefined;
async function ort(): Promise<Ort | null> {
  if (ortMod === undefined) {
    try {
      ortMod = (await import('onnxruntime-node')) as Ort;
    } catch {
      ortMod = null;
    }
  }
  return ortMod;
}

type Outs = Record<string, { data: ArrayLike<number>; dims: readonly number[] }>;

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median process CPU ms of `f` over ~`ms` of runs (at least 3, after one warm-up). Both contenders run on one
 * thread, so CPU time is the work done, and it stays meaningful on a machine shared with other jobs, where wall
 * time is not.
 */
async function timeIt(f: () => unknown, ms: number): Promise<number> {
  await f();
  const t: number[] = [];
  const end = performance.now() + ms;
  while (t.length < 3 || (performance.now() < end && t.length < 200)) {
    const c0 = process.cpuUsage();
    await f();
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1000);
  }
  return median(t);
}

async function ortSession(bytes: Uint8Array) {
  const o = await ort();
  if (!o) throw new Error('onnxruntime-node is not installed');
  const s = await o.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const run = async (feeds: Feeds): Promise<Outs> => {
    const f: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new o.Tensor(v.type as 'float32', v.data as Float32Array, v.dims);
    const r = await s.run(f);
    const out: Outs = {};
    for (const [k, v] of Object.entries(r)) out[k] = { data: v.data instanceof BigInt64Array ? Array.from(v.data, Number) : (v.data as Float32Array), dims: v.dims };
    return out;
  };
  return { run, release: () => s.release() };
}

function oursRun(model: OnnxModel, feeds: Feeds): Outs {
  const f: Record<string, { data: ArrayBufferView; dims: number[] }> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = { data: v.data, dims: v.dims };
  const r = model.run(f);
  const out: Outs = {};
  for (const [k, v] of Object.entries(r)) out[k] = { data: v.data instanceof BigInt64Array ? Array.from(v.data, Number) : (v.data as Float32Array), dims: v.shape };
  return out;
}

/** Output drift of `test` against `ref`. */
export function drift(ref: Outs, test: Outs): Drift[] {
  return Object.keys(ref).map((name) => {
    const a = ref[name].data, b = test[name]?.data;
    if (!b || b.length !== a.length) return { output: name, maxAbs: Infinity, meanAbs: Infinity, cosine: 0, top1: 0 };
    let mx = 0, sum = 0, ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]), y = Number(b[i]);
      const d = Math.abs(x - y);
      if (!(d <= mx)) mx = d;
      sum += d;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const dims = ref[name].dims;
    const last = dims.length ? dims[dims.length - 1] : 1;
    let top1: number | null = null;
    if (last > 1 && a.length > 0) {
      const rows = a.length / last;
      let agree = 0;
      for (let r = 0; r < rows; r++) {
        let ia = 0, ib = 0;
        for (let j = 1; j < last; j++) {
          if (Number(a[r * last + j]) > Number(a[r * last + ia])) ia = j;
          if (Number(b[r * last + j]) > Number(b[r * last + ib])) ib = j;
        }
        if (ia === ib) agree++;
      }
      top1 = agree / rows;
    }
    const cos = aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
    return { output: name, maxAbs: mx, meanAbs: a.length ? sum / a.length : 0, cosine: cos, top1 };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline

function checkOpts(o: OnnxOptimizeOptions): void {
  if (!o || typeof o !== 'object') throw typeError(FN, `options must be an object, got ${describe(o)}`);
  if (typeof o.model !== 'string' || !/\.onnx$/i.test(o.model)) throw typeError(FN, `model must be a path to a .onnx file, got ${describe(o.model)}`);
  if (o.int8 !== undefined && o.int8 !== 'dynamic' && o.int8 !== 'static') throw rangeError(FN, `--int8 must be 'dynamic' or 'static', got ${describe(o.int8)}`);
  if (o.calibration && o.int8 !== 'static') throw rangeError(FN, '--calib needs --int8 static');
  if (o.roundingSamples !== undefined && !o.int8) throw rangeError(FN, '--rounding-samples needs --int8 dynamic|static');
  if (o.roundingSamples !== undefined && (!Array.isArray(o.roundingSamples) || o.roundingSamples.length === 0)) throw rangeError(FN, `roundingSamples must be a non-empty array of feeds, got ${describe(o.roundingSamples)}`);
  if (o.prune !== undefined && !(typeof o.prune === 'number' && o.prune >= 0 && o.prune < 1)) throw rangeError(FN, `--prune must be a sparsity in [0, 1), got ${describe(o.prune)}`);
  if (o.pattern !== undefined && o.prune === undefined && !/^\d+:\d+$/.test(o.pattern)) throw rangeError(FN, `--pattern ${o.pattern} needs --prune SPARSITY`);
  if (o.half !== undefined && o.half !== 'float16' && o.half !== 'bfloat16') throw rangeError(FN, `half must be 'float16' or 'bfloat16', got ${describe(o.half)}`);
  if (o.distill !== undefined) {
    if (!Array.isArray(o.distill) || o.distill.some((h) => !Number.isSafeInteger(h) || h < 1)) throw rangeError(FN, `--distill needs hidden sizes such as 32 or 64,32, got ${describe(o.distill)}`);
    if (!o.distillData || !(o.distillData.x instanceof Tensor) || o.distillData.x.ndim !== 2) throw rangeError(FN, '--distill needs --data FILE (rows to distil on)');
    if (o.distillEpochs !== undefined && !(Number.isSafeInteger(o.distillEpochs) && o.distillEpochs > 0)) throw rangeError(FN, `--distill-epochs must be a positive integer, got ${describe(o.distillEpochs)}`);
  } else if (o.distillData) throw rangeError(FN, '--data is for --distill HIDDEN');
  if (!o.int8 && o.prune === undefined && !o.pattern && !o.half && !o.distill) throw rangeError(FN, 'nothing to do: give --int8 dynamic|static, --prune SPARSITY [--pattern P], --fp16/--bf16 and/or --distill HIDDEN --data FILE');
}

/** Runs the pipeline; writes `<name>.optimized.onnx`, report.md and report.json to `outDir` unless it is null. */
export async function optimizeOnnx(opts: OnnxOptimizeOptions): Promise<OnnxOptimizeReport> {
  checkOpts(opts);
  const t0 = performance.now();
  const say = opts.onProgress ?? (() => undefined);
  let bytes0: Uint8Array;
  try {
    bytes0 = readFileSync(opts.model);
  } catch (e) {
    throw rangeError(FN, `cannot read '${opts.model}' (${(e as Error).message})`);
  }
  const src = { bytes: bytes0, baseDir: dirname(resolve(opts.model)) };
  const probe = new EditModel(src, FN);
  const notes: string[] = [];
  const feeds1 = opts.inputs ?? randomFeeds(probe.graph, 1, opts.dims);
  if (!opts.inputs) notes.push(`inputs: random, shapes ${Object.entries(feeds1).map(([k, v]) => `${k} [${v.dims.join(', ')}]`).join(', ')}`);
  const feeds8 = batched(probe.graph, feeds1, 8);
  if (!feeds8) notes.push('batch 8 not measured: the model fixes its batch dimension');

  // Stages: each applies to the previous one's edited model (distillation replaces it with the student).
  const plan: { name: string; apply: (m: EditModel) => string | { detail: string; model: EditModel } | Promise<string> }[] = [];
  if (opts.distill) {
    const hidden = opts.distill;
    plan.push({ name: `distill ${hidden.join(',')}`, apply: (m) => distillStage(m, hidden, opts.distillData!, opts.distillEpochs ?? 30, notes) });
  }
  if (opts.prune !== undefined || opts.pattern) {
    const pattern = opts.pattern ?? 'unstructured';
    plan.push({
      name: `prune ${/^\d+:\d+$/.test(pattern) ? pattern : `${opts.prune} ${pattern}`}${opts.scope === 'global' ? ' global' : ''}`,
      apply: (m) => {
        const layers: PrunedLayer[] = pruneEdit(m, { sparsity: opts.prune, pattern, scope: opts.scope });
        const size = layers.reduce((a, l) => a + l.size, 0);
        const zeros = layers.reduce((a, l) => a + l.size * l.sparsity, 0);
        return `${layers.length} weights, ${((zeros / Math.max(1, size)) * 100).toFixed(1)} % zeros`;
      },
    });
  }
  if (opts.int8) {
    plan.push({
      name: `int8 ${opts.int8}`,
      apply: async (m) => {
        let calibration: OnnxCalibration | undefined;
        if (opts.int8 === 'static') {
          const samples = opts.calibration ?? Array.from({ length: 8 }, (_, i) => randomFeeds(probe.graph, 1, opts.dims, 100 + i));
          if (!opts.calibration) notes.push('static int8 calibrated on 8 random inputs (give --calib FILE for real data)');
          const c = calibrationProbe(new EditModel({ bytes: m.bytes(), baseDir: null }, FN), samples, { method: opts.calibrationMethod ?? 'percentile' });
          let run: (f: Feeds) => Promise<Record<string, unknown>> | Record<string, unknown>;
          let release = async () => undefined as unknown;
          try {
            const probeModel = loadOnnx(c.bytes);
            run = (f) => probeModel.run(plain(f));
          } catch (e) {
            // simdtensor cannot run this model yet: calibrate on onnxruntime-node.
            const s = await ortSession(c.bytes).catch(() => {
              throw rangeError(FN, `static int8 needs a runtime to calibrate on: simdtensor cannot run the model (${(e as Error).message}) and onnxruntime-node is not available`);
            });
            notes.push('static int8 calibrated on onnxruntime-node (simdtensor cannot run this model yet)');
            run = (f) => s.run(f);
            release = () => s.release();
          }
          try {
            for (const f of samples) c.observe(f, await run(f));
          } finally {
            await release();
          }
          calibration = c.finish();
        }
        const qo = { mode: opts.int8!, weightType: opts.weightType, calibration, convForm: opts.int8 === 'dynamic' ? opts.convForm : undefined };
        const rs = opts.roundingSamples;
        if (rs) say(`  rounding weights against ${rs.length} sample input${rs.length > 1 ? 's' : ''}`);
        const moments = rs ? roundingMoments(new EditModel({ bytes: m.bytes(), baseDir: null }, FN), qo, rs.map(plain), `${FN}: rounding sample`) : null;
        // 'auto' decides on the shapes of a float run over the comparison inputs (or the first rounding sample).
        let pixels: Map<string, number> | null = null;
        if (qo.convForm === 'auto') {
          try {
            pixels = convInputPixels(new EditModel({ bytes: m.bytes(), baseDir: null }, FN), qo, plain(rs?.[0] ?? feeds1), `${FN}: ${rs ? 'rounding sample[0]' : 'comparison input'}`);
          } catch (e) {
            if (rs) throw e;
            // simdtensor cannot run the model: only the reduction-length rule applies.
            notes.push(`--conv auto: input pixels unknown (${(e as Error).message}); only convs with C·kh·kw < 32 are weight-only`);
          }
        }
        const n = quantizeEdit(m, qo, moments, pixels);
        const how = [opts.int8 === 'static' ? `${opts.calibrationMethod ?? 'percentile'} calibration` : '', rs ? `weights rounded against ${rs.length} sample input${rs.length > 1 ? 's' : ''}` : ''].filter(Boolean);
        return `${n} MatMul/Gemm/Conv nodes${how.length ? ` (${how.join(', ')})` : ''}`;
      },
    });
  }
  if (opts.half) {
    plan.push({ name: opts.half, apply: (m) => `${convertEdit(m, { dtype: opts.half! })} initializers` });
  }

  const stages: OnnxStageReport[] = [];
  let ref: Outs | null = null;
  const measure = async (name: string, bytes: Uint8Array, detail: string): Promise<void> => {
    say(`measuring ${name}`);
    const st: OnnxStageReport = { stage: name, bytes: bytes.length, simdtensor: { b1: null, b8: null }, onnxruntime: { b1: null, b8: null }, drift: [], detail };
    let outs: Outs | null = null;
    try {
      const model = loadOnnx(bytes);
      outs = oursRun(model, feeds1);
      if (!opts.noLatency) {
        const threads = getNumThreads();
        setNumThreads(1);
        try {
          st.simdtensor.b1 = await timeIt(() => oursRun(model, feeds1), opts.latencyMs ?? 400);
          if (feeds8) st.simdtensor.b8 = await timeIt(() => oursRun(model, feeds8), opts.latencyMs ?? 400);
        } finally {
          setNumThreads(threads);
        }
      }
    } catch (e) {
      st.simdtensor.error = (e as Error).message;
    }
    try {
      const s = await ortSession(bytes);
      try {
        const o = await s.run(feeds1);
        outs ??= o;
        if (!opts.noLatency) {
          st.onnxruntime.b1 = await timeIt(() => s.run(feeds1), opts.latencyMs ?? 400);
          if (feeds8) st.onnxruntime.b8 = await timeIt(() => s.run(feeds8), opts.latencyMs ?? 400);
        }
      } finally {
        await s.release();
      }
    } catch (e) {
      st.onnxruntime.error = (e as Error).message;
    }
    if (!outs) throw rangeError(FN, `stage '${name}': neither simdtensor (${st.simdtensor.error}) nor onnxruntime-node (${st.onnxruntime.error}) could run the model`);
    ref ??= outs;
    st.drift = drift(ref, outs);
    stages.push(st);
  };

  let m = new EditModel(src, FN);
  await measure('original', m.bytes(), 'as loaded (Constant nodes as initializers)');
  for (const [i, s] of plan.entries()) {
    say(`[${i + 1}/${plan.length}] ${s.name}`);
    const r = await s.apply(m);
    if (typeof r !== 'string') m = r.model;
    await measure(s.name, m.bytes(), typeof r === 'string' ? r : r.detail);
  }

  let output: string | null = null;
  const report: OnnxOptimizeReport = { model: opts.model, output, stages, inputs: Object.fromEntries(Object.entries(feeds1).map(([k, v]) => [k, v.dims])), seconds: 0, notes };
  if (opts.outDir !== null) {
    const dir = opts.outDir ?? 'simdtensor-optimize';
    mkdirSync(dir, { recursive: true });
    output = join(dir, `${basename(opts.model, extname(opts.model))}.optimized.onnx`);
    writeFileSync(output, m.bytes());
    report.output = output;
  }
  report.seconds = (performance.now() - t0) / 1000;
  if (opts.outDir !== null) {
    const dir = opts.outDir ?? 'simdtensor-optimize';
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report, (_, v) => (v === Infinity ? 'Infinity' : v), 2) + '\n');
    writeFileSync(join(dir, 'report.md'), formatOnnxReport(report));
  }
  return report;
}

/**
 * The distillation stage: the model (run on simdtensor) teaches an MLP student with `hidden` sizes on `data`
 * (85 % of the rows; the top-1 agreement is reported on the other 15 %), and the student, written as ONNX with the
 * teacher's input and output names and dims (and its final Softmax, if it has one), replaces the model.
 */
function distillStage(m: EditModel, hidden: number[], data: { x: Tensor; y?: Int32Array }, epochs: number, notes: string[]): { detail: string; model: EditModel } {
  let teacher: OnnxModel;
  try {
    teacher = loadOnnx(m.bytes());
  } catch (e) {
    throw rangeError(FN, `--distill runs the teacher on simdtensor, which cannot run this model (${(e as Error).message})`);
  }
  if (teacher.outputs.length !== 1) throw rangeError(FN, `--distill needs a model with one output (class scores), this one has ${teacher.outputs.length}`);
  const x = data.x as Tensor<'float32'>;
  const [rows, f] = x.shape;
  const order = permutation(rows, 7);
  const nHold = rows >= 40 ? Math.round(rows * 0.15) : 0;
  const take = (idx: Int32Array) => {
    const out = new Float32Array(idx.length * f);
    gatherRows(x.data, f, idx, out);
    return new Tensor(out, [idx.length, f], 'float32', out.length);
  };
  const trainIdx = order.subarray(nHold), holdIdx = order.subarray(0, nHold);
  const trainX = take(trainIdx);
  const y = data.y ? Int32Array.from(trainIdx, (i) => data.y![i]) : undefined;
  const res = distillOnnx(teacher, { hidden, seed: 1 }, y ? { x: trainX, y } : { x: trainX }, { epochs, batchSize: 32, optimizer: { type: 'adamw', lr: 3e-3 }, temperature: 4, seed: 1 });
  const io = teacher.inputs[0], out = teacher.outputs[0].name;
  const softmaxOut = (m.nodes as Msg[]).some((n) => n.opType === 'Softmax' && n.output.includes(out));
  const dims = (io.dims ?? []).map((d, i) => (typeof d === 'number' && d > 0 ? d : typeof d === 'string' && d ? d : i === 0 ? 'batch' : `d${i}`));
  const bytes = sequentialToOnnx(res.student, { inputName: io.name, outputName: out, inputDims: dims.length >= 2 ? dims : undefined, finalSoftmax: softmaxOut });
  let held = '';
  if (nHold) {
    const hx = take(holdIdx);
    held = `, ${(agreement(predict(res.student, hx), teacherLogits(teacher, hx)) * 100).toFixed(1)} % on ${nHold} held-out rows`;
  }
  if (!data.y) notes.push('distilled on unlabeled rows (soft targets only)');
  notes.push('drift of the distilled stages is against the teacher on the comparison inputs; the held-out agreement on the data rows is in the stage detail');
  const sizes = res.student.linears().map((l) => l.inFeatures).concat(res.student.linears().at(-1)!.outFeatures).join('→');
  return {
    detail: `MLP ${sizes} student (${res.student.paramCount()} params), ${epochs} epochs on ${trainIdx.length} ${data.y ? 'labeled' : 'unlabeled'} rows; top-1 agreement with the teacher ${(res.agreement * 100).toFixed(1)} % on them${held}`,
    model: new EditModel({ bytes, baseDir: null }, FN),
  };
}

function plain(f: Feeds): Record<string, { data: ArrayBufferView; dims: number[] }> {
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, { data: v.data, dims: v.dims }]));
}

const ms = (v: number | null) => (v === null ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const mb = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/** The stage table rows (header first). */
export function onnxStageRows(r: OnnxOptimizeReport): string[][] {
  const base = r.stages[0];
  const rows = [['stage', 'size', 'vs original', 'simdtensor b1 ms', 'b8 ms', 'onnxruntime b1 ms', 'b8 ms', 'max |Δ|', 'mean |Δ|', 'cosine', 'top-1']];
  for (const s of r.stages) {
    const d = s.drift;
    const worst = (f: (x: Drift) => number, pick: (a: number, b: number) => number) => (d.length ? d.map(f).reduce(pick) : NaN);
    const top = d.filter((x) => x.top1 !== null);
    rows.push([
      s.stage,
      mb(s.bytes),
      `${(base.bytes / s.bytes).toFixed(2)}× smaller`,
      ms(s.simdtensor.b1),
      ms(s.simdtensor.b8),
      ms(s.onnxruntime.b1),
      ms(s.onnxruntime.b8),
      worst((x) => x.maxAbs, Math.max).toExponential(2),
      worst((x) => x.meanAbs, Math.max).toExponential(2),
      worst((x) => x.cosine, Math.min).toFixed(5),
      top.length ? `${(Math.min(...top.map((x) => x.top1!)) * 100).toFixed(1)} %` : '—',
    ]);
  }
  return rows;
}

/** report.md. */
export function formatOnnxReport(r: OnnxOptimizeReport): string {
  const rows = onnxStageRows(r);
  const out = [`# simdtensor optimize ${basename(r.model)}`, '', `Output: ${r.output ?? '(not written)'}; ${r.seconds.toFixed(1)} s. Latency: median process CPU ms per run, one thread each; drift against the original model's outputs.`, ''];
  out.push(`| ${rows[0].join(' | ')} |`, `|${rows[0].map(() => '---').join('|')}|`, ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`));
  out.push('', '## Stages', '');
  for (const s of r.stages) {
    out.push(`* **${s.stage}**: ${s.detail}`);
    if (s.simdtensor.error) out.push(`  * simdtensor could not run it: ${s.simdtensor.error}`);
    if (s.onnxruntime.error) out.push(`  * onnxruntime-node could not run it: ${s.onnxruntime.error}`);
  }
  if (r.notes.length) out.push('', '## Notes', '', ...r.notes.map((n) => `* ${n}`));
  return out.join('\n') + '\n';
}
