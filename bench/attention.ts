/**
 * The fused f32 attention (native/runtime/f32/attention_driver.cc, the ONNX `Attention` node) at BERT's shapes
 * (bench/onnx-models.ts: 12 heads of 32, seq 128, the merged QKV rows the qkv-fusion pass leaves, a padding mask,
 * scale 1/√32) at batch 1 and 8, rec's SVTR self-attention shape (8 heads of 15, seq 40; rec runs it unfused today)
 * and odd shapes; then the row softmax alone at rec's Softmax node shapes (40×40 per head, the 40×6625 classifier).
 * One thread, process CPU µs per call (and per (batch, head)) and GFLOP/s per CPU second (4·sq·sk·d per head;
 * this VM's f32 FMA peak is ~223). With `--base path/to/other.node` (e.g. a copy of main's addon) every call
 * also runs on that addon, A/B alternating within each round (the order flips every round); the ratio column is
 * the median of the per-round base/this ratios. Outputs are compared first (max relative difference printed).
 *
 *   node dist/bench/attention.js [--rounds 15] [--base /tmp/main.node] [--only bert]
 * @module
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { rand, setNumThreads } from '../src/index.js';
import { native } from '../src/native.js';
import { cpuAlternating, flag, numFlag } from './measure.js';

type Addon = typeof native;

/** One attention call, as data: merged = one [b, s, 3·h·d] QKV buffer (BERT after qkv-fusion), else [b, s, h, d]. */
interface AttnTrial {
  id: string;
  b: number;
  h: number;
  s: number;
  d: number;
  merged: boolean;
  mask: 'pad' | 'none';
  scale: number;
}

/** One softmax call over rows × cols. */
interface SoftmaxTrial {
  id: string;
  rows: number;
  cols: number;
}

const bert = (b: number): AttnTrial => ({ id: `bert b${b} h12 s128 d32`, b, h: 12, s: 128, d: 32, merged: true, mask: 'pad', scale: 1 / Math.sqrt(32) });
export const ATTN_TRIALS: AttnTrial[] = [
  bert(1),
  bert(8),
  { id: 'rec svtr h8 s40 d15', b: 1, h: 8, s: 40, d: 15, merged: false, mask: 'none', scale: 1 / Math.sqrt(15) },
  { id: 'odd b2 h3 s77 d24', b: 2, h: 3, s: 77, d: 24, merged: false, mask: 'pad', scale: 0.2 },
  { id: 'long b1 h4 s384 d64', b: 1, h: 4, s: 384, d: 64, merged: true, mask: 'pad', scale: 0.125 },
];
export const SOFTMAX_TRIALS: SoftmaxTrial[] = [
  { id: 'softmax rec 320x40', rows: 320, cols: 40 },
  { id: 'softmax rec 40x6625', rows: 40, cols: 6625 },
  { id: 'softmax 1536x128', rows: 1536, cols: 128 },
];

/** The call of one trial on addon `a`, writing `out`. */
function attnCall(a: Addon, t: AttnTrial, qkv: Float32Array, mask: Float32Array | null, out: Float32Array): () => void {
  const { b, h, s, d } = t;
  const hd = h * d;
  // [offset, batch, row, head] strides of Q, K and V: one merged row [q | k | v] or three [b, s, h, d] tensors
  // laid one after the other in `qkv`.
  const st = t.merged
    ? [0, hd, 2 * hd].flatMap((off) => [off, s * 3 * hd, 3 * hd, d])
    : [0, 1, 2].flatMap((i) => [i * b * s * hd, s * hd, hd, d]);
  const ms = mask ? [s, 0, 0, 1] : [0, 0, 0, 0];
  const geom = Int32Array.from([b, h, s, s, d, d, ...st, s * hd, hd, d, ...ms]);
  return () => a.onnxAttention(qkv, qkv, qkv, mask, out, geom, t.scale);
}

function maxRelDiff(x: Float32Array, y: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) !== Number.isNaN(y[i])) return Infinity;
    const d = Math.abs(x[i] - y[i]) / Math.max(1e-3, Math.abs(y[i]));
    if (d > m) m = d;
  }
  return m;
}

function main(): void {
  const rounds = numFlag('--rounds', 15);
  const only = flag('--only', '');
  const basePath = flag('--base', '');
  const base = basePath ? (createRequire(import.meta.url)(basePath) as Addon) : null;
  setNumThreads(1);
  base?.setNumThreads(1);
  console.log(`attention, one thread, CPU µs per call, medians of ${rounds} rounds${base ? ` (A/B alternating with ${basePath})` : ''}; load ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  console.log(`${'trial'.padEnd(26)} ${'µs'.padStart(9)} ${'µs/head'.padStart(8)} GFLOP/s${base ? '    base µs  base/this  max rel diff' : ''}`);
  for (const t of ATTN_TRIALS) {
    if (only && !t.id.includes(only)) continue;
    const { b, h, s, d } = t;
    const qkv = rand([b * s * 3 * h * d], { seed: 1 }).data as Float32Array;
    // BERT's padding: the last (i % 5) + 3 keys of batch i masked with −10000.
    const mask = t.mask === 'pad' ? Float32Array.from({ length: b * s }, (_, i) => (i % s >= s - 3 - (Math.floor(i / s) % 5) ? -10000 : 0)) : null;
    const oThis = new Float32Array(b * s * h * d), oBase = new Float32Array(b * s * h * d);
    const fThis = attnCall(native, t, qkv, mask, oThis), fBase = base ? attnCall(base, t, qkv, mask, oBase) : null;
    fThis();
    fBase?.();
    const flops = 4 * b * h * s * s * d;
    const inner = Math.max(5, Math.round(2e8 / flops));
    const r = cpuAlternating(fThis, fBase, inner, rounds);
    const gf = flops / (r.us * 1e3);
    console.log(`${t.id.padEnd(26)} ${r.us.toFixed(1).padStart(9)} ${(r.us / (b * h)).toFixed(2).padStart(8)} ${gf.toFixed(0).padStart(7)}${fBase ? `  ${r.base.toFixed(1).padStart(9)}  ${r.ratio.toFixed(3).padStart(8)}×  ${maxRelDiff(oThis, oBase).toExponential(1)}` : ''}`);
  }
  for (const t of SOFTMAX_TRIALS) {
    if (only && !t.id.includes(only)) continue;
    const x = rand([t.rows * t.cols], { seed: 2, low: -4, high: 4 }).data as Float32Array;
    const oThis = new Float32Array(x.length), oBase = new Float32Array(x.length);
    const fThis = () => native.softmax(false, x, oThis, t.rows, t.cols);
    const fBase = base ? () => base.softmax(false, x, oBase, t.rows, t.cols) : null;
    fThis();
    fBase?.();
    const inner = Math.max(5, Math.round(2e7 / x.length));
    const r = cpuAlternating(fThis, fBase, inner, rounds);
    console.log(`${t.id.padEnd(26)} ${r.us.toFixed(1).padStart(9)} ${''.padStart(8)} ${'-'.padStart(7)}${fBase ? `  ${r.base.toFixed(1).padStart(9)}  ${r.ratio.toFixed(3).padStart(8)}×  ${maxRelDiff(oThis, oBase).toExponential(1)}` : ''}`);
  }
}

main();
