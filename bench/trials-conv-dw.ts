/**
 * Depthwise 3×3 trials: the depthwise layers of MobileNetV2 at 224×224 (stride 1 and 2), simdtensor (NHWC and NCHW)
 * against onnxruntime-node's one-node Conv(group = C), and against the bound the machine's measured read bandwidth
 * sets for the bytes each layer must move (input + output + weights + bias).
 *
 * Standalone: `npm run build:ts && node dist/bench/trials-conv-dw.js [--threads 1] [--reps 30] [--best] [--json file]`.
 * bench/run.ts runs it as an extra module.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { onnxModel, OnnxType } from './onnx.js';
import { native } from '../src/native.js';
import { median } from './measure.js';

/** One depthwise layer, as data: NCHW input [1, c, h, h], 3×3, pad 1, the given stride. */
export interface DwTrial {
  id: string;
  c: number;
  h: number;
  stride: number;
}

/** MobileNetV2's 3×3 depthwise layers at 224×224 (one of each distinct shape). */
export const DW_TRIALS: DwTrial[] = [
  [32, 112, 1], [96, 112, 2], [144, 56, 1], [144, 56, 2], [192, 28, 1], [192, 28, 2], [384, 14, 1], [576, 14, 1], [576, 14, 2], [960, 7, 1],
].map(([c, h, stride]) => ({ id: `dw3x3/${c}x${h}x${h}/s${stride}`, c, h, stride }));

export interface DwResult {
  id: string;
  threads: number;
  /** Median ms per call (NHWC on aligned buffers; nhwcRawMs on fresh, cache-line-misaligned Float32Arrays). */
  nhwcMs: number;
  nhwcRawMs: number;
  nchwMs: number;
  ortMs: number | null;
  /** Bytes the layer must move at least (input + output + weights + bias). */
  bytes: number;
  /** Read bandwidth measured over a buffer of that size, GB/s (one core). */
  bwGBs: number;
  /** bytes / bandwidth, ms: the bound. */
  boundMs: number;
  /** boundMs / nhwcMs. */
  nhwcOfBound: number;
  /** The layer's FMAs at the f32 FMA peak measured in the same run (threads × one core's), ms. */
  computeMs: number;
  /** max(boundMs, computeMs) / nhwcMs: the share of the roofline (the 7 smaller layers are compute-bound: their
   * bandwidth bound is below the time their FMAs take at peak). */
  nhwcOfRoofline: number;
  /** ortMs / nhwcMs, ortMs / nchwMs. */
  vsOrtNhwc: number | null;
  vsOrtNchw: number | null;
  kernel: string;
}

/**
 * Median ms per call over `reps` batches (each ~2 ms of calls), or with BEST set the fastest batch: on a machine
 * shared with other work the median measures the neighbours, the best batch the code (say which in the report).
 */
let BEST = false;
async function timeIt(fn: () => unknown | Promise<unknown>, reps: number): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  // Batches of calls long enough (~2 ms) that the clock's resolution does not matter; the median of `reps` batches.
  const t0 = performance.now();
  await fn();
  const one = Math.max(performance.now() - t0, 1e-3);
  const inner = Math.max(1, Math.min(200, Math.round(2 / one)));
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    times.push((performance.now() - s) / inner);
  }
  return BEST ? Math.min(...times) : median(times);
}

/** Runs every trial at each thread count; `ort` false skips onnxruntime-node. */
export async function runDwBench(threads: number[] = [1], reps = 30, ort = true, best = false): Promise<DwResult[]> {
  BEST = best;
  const st = await import('../src/index.js');
  const o = ort ? await import('onnxruntime-node').catch(() => null) : null;
  const out: DwResult[] = [];
  const t0 = st.getNumThreads();
  const peak = native.probeF32Peak(200);  // GFLOP/s of one core
  for (const t of DW_TRIALS) {
    const oh = Math.floor((t.h + 2 - 3) / t.stride) + 1;
    // Activations inside a model are outputs of earlier ops: buffers from simdtensor's allocator (64-byte aligned).
    // A fresh Float32Array from V8 sits 16 bytes off a cache line, which splits every vector load; timed apart.
    const xRaw = st.rand([1, t.h, t.h, t.c], { seed: 1 });
    const xN = st.add(st.rand([1, t.c, t.h, t.h], { seed: 1 }), 0);
    const xH = st.add(xRaw, 0);
    const wO = st.rand([t.c, 1, 3, 3], { seed: 2 });
    const wH = st.rand([3, 3, t.c, 1], { seed: 2 });
    const b = st.rand([t.c], { seed: 3 });
    const yN = st.add(st.zeros([1, t.c, oh, oh]), 0);
    const yH = st.add(st.zeros([1, oh, oh, t.c]), 0);
    const yRaw = st.zeros([1, oh, oh, t.c]);
    const bytes = 4 * (t.c * t.h * t.h + t.c * oh * oh + 9 * t.c + t.c);
    const bw = native.probeReadBandwidth(Math.max(bytes, 1 << 16), 60);
    let session: import('onnxruntime-node').InferenceSession | null = null;
    for (const n of threads) {
      st.setNumThreads(n);
      const nhwcMs = await timeIt(() => st.depthwiseConv2d(xH, wH, { layout: 'nhwc', strides: t.stride, pads: 1, bias: b, out: yH }), reps);
      const nhwcRawMs = await timeIt(() => st.depthwiseConv2d(xRaw, wH, { layout: 'nhwc', strides: t.stride, pads: 1, bias: b, out: yRaw }), reps);
      const nchwMs = await timeIt(() => st.depthwiseConv2d(xN, wO, { strides: t.stride, pads: 1, bias: b, out: yN }), reps);
      let ortMs: number | null = null;
      if (o) {
        const model = onnxModel({
          nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: t.c, kernel_shape: { ints: [3, 3] }, strides: { ints: [t.stride, t.stride] }, pads: { ints: [1, 1, 1, 1] } } }],
          inputs: [{ name: 'x', type: OnnxType.FLOAT, dims: [1, t.c, t.h, t.h] }],
          outputs: [{ name: 'y', type: OnnxType.FLOAT, dims: [1, t.c, oh, oh] }],
          initializers: [
            { name: 'w', type: OnnxType.FLOAT, dims: [t.c, 1, 3, 3], data: wO.data },
            { name: 'b', type: OnnxType.FLOAT, dims: [t.c], data: b.data },
          ],
        });
        session = await o.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: n, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
        const feeds = { x: new o.Tensor('float32', xN.data as Float32Array, [1, t.c, t.h, t.h]) };
        const s = session;
        // Agreement first, so a fast wrong answer cannot pass as a win.
        const ref = (await s.run(feeds)).y.data as Float32Array;
        let err = 0;
        for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i] - yN.data[i]));
        if (!(err < 1e-4)) throw new Error(`${t.id}: simdtensor and onnxruntime disagree by ${err}`);
        ortMs = await timeIt(() => s.run(feeds), reps);
        await s.release();
      }
      const boundMs = bytes / (bw * 1e6);
      const computeMs = (2 * 9 * t.c * oh * oh) / (peak * n * 1e6);
      out.push({
        id: t.id, threads: n, nhwcMs, nhwcRawMs, nchwMs, ortMs, bytes, bwGBs: bw, boundMs, nhwcOfBound: boundMs / nhwcMs,
        computeMs, nhwcOfRoofline: Math.max(boundMs, computeMs) / nhwcMs,
        vsOrtNhwc: ortMs ? ortMs / nhwcMs : null, vsOrtNchw: ortMs ? ortMs / nchwMs : null, kernel: st.cpuInfo().kernels.depthwiseConv2d,
      });
    }
  }
  st.setNumThreads(t0);
  return out;
}

/** The results as a Markdown table. */
export function dwTable(rs: DwResult[]): string {
  const f = (v: number | null, d = 2) => (v === null ? '—' : v.toFixed(d));
  const lines = [
    '| layer | threads | NHWC µs | NHWC misaligned µs | NCHW µs | ORT µs | NHWC vs ORT | NCHW vs ORT | MB moved | read GB/s | bound µs | NHWC % of bound | FMA-peak µs | NHWC % of roofline |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rs)
    lines.push(`| ${r.id} | ${r.threads} | ${f(r.nhwcMs * 1e3, 0)} | ${f(r.nhwcRawMs * 1e3, 0)} | ${f(r.nchwMs * 1e3, 0)} | ${r.ortMs === null ? '—' : f(r.ortMs * 1e3, 0)} | ${f(r.vsOrtNhwc)}× | ${f(r.vsOrtNchw)}× | ${f(r.bytes / 1e6)} | ${f(r.bwGBs, 1)} | ${f(r.boundMs * 1e3, 0)} | ${f(100 * r.nhwcOfBound, 0)} % | ${f(r.computeMs * 1e3, 1)} | ${f(100 * r.nhwcOfRoofline, 0)} % |`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const get = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const threads = (get('--threads') ?? '1').split(',').map(Number);
  const reps = Number(get('--reps') ?? 30);
  const rs = await runDwBench(threads, reps, !args.includes('--no-ort'), args.includes('--best'));
  console.log(`${args.includes('--best') ? 'fastest' : 'median'} of ${reps} batches per figure; load average ${loadavg()[0].toFixed(1)} at the end`);
  console.log(dwTable(rs));
  const json = get('--json');
  if (json) writeFileSync(json, JSON.stringify(rs, null, 2));
}
