/**
 * Where the time of a dynamic-int8 pointwise conv goes, on PaddleOCR rec's shapes (issue #17): the per-pixel
 * quantizer (`quantizeRows`), the int8 conv as the Int8Conv node runs it (per-pixel parameters, hardSwish affine in
 * the epilogue), the same conv without the activation, with per-tensor parameters, with the int32 output (GEMM and
 * zero-point correction only), and the float32 conv (FusedConv's work). Process CPU µs per call, medians of
 * `--rounds` rounds in which all contenders alternate; one thread.
 * Run: `npm run build:ts && node dist/bench/int8-pw.js [--rounds 15] [--shapes 3840x32x64,…]` (pixels x C x M).
 * @module
 */
import { loadavg } from 'node:os';
import { native } from '../src/native.js';
import { conv2d, cpuInfo, packConvWeights, quantize, QuantizedTensor, setNumThreads, tensor } from '../src/index.js';
import { cpuMs, flag, median, numFlag } from './measure.js';

const ROUNDS = numFlag('--rounds', 15);
// rec's Conv.4, 6, 8, 10, 12, 14, 24, 28 (pixels = 1 × H × W of the NHWC input).
const SHAPES = flag('--shapes', '3840x32x64,3840x64x64,1920x64x128,1920x128x128,960x128x240,960x240x240,480x240x480,480x480x480')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);

/** Process CPU µs per call over `calls` back-to-back calls. */
function cpuUs(f: () => void, calls: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) f();
  return (cpuMs(process.cpuUsage(c0)) * 1000) / calls;
}

function main() {
  setNumThreads(1);
  const k = cpuInfo().kernels;
  console.log(`kernels: s8 ${k['linear.s8'] ?? k['conv2d.s8'] ?? '?'}, quantize ${k.quantize ?? '?'}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${ROUNDS} rounds, CPU µs per call`);
  const names = ['quantize', 'int8', 'int8 no act', 'int8 per-tensor', 'int8 i32 out', 'f32'];
  console.log(`P x C x M | ${names.join(' | ')} | f32 / (quantize + int8)`);
  for (const [p, c, m] of SHAPES) {
    const h = 1, w = p;
    const x = new Float32Array(p * c);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * (1 + (i % 7)) - 0.3;
    const wf = new Float32Array(m * c);
    for (let i = 0; i < wf.length; i++) wf[i] = Math.cos(i * 7.31) * 0.2;
    const bias = new Float32Array(m).map((_, i) => Math.sin(i) * 0.1);
    const wt = tensor(wf, [m, c, 1, 1]);
    const qw = quantize(wt, { axis: 0 });
    const pw8 = packConvWeights(qw, { weightLayout: 'oihw', bias: tensor(bias, [m]) });
    const pw8Nb = packConvWeights(qw, { weightLayout: 'oihw' });
    const pwf = packConvWeights(wt, { weightLayout: 'oihw', bias: tensor(bias, [m]) });
    const act = { hardSwish: { scale: 0.9, shift: 0.05 } };
    const q = new Uint8Array(p * c), rs = new Float32Array(p), rz = new Int32Array(p);
    native.quantizeRows(x, p, c, q, rs, rz);
    const xq = new QuantizedTensor(tensor(q, [1, h, w, c]), 1, 0, null);
    const xqt = new QuantizedTensor(tensor(q, [1, h, w, c]), 0.05, 128, null);
    const xf = tensor(x, [1, h, w, c]);
    const out = tensor(new Float32Array(p * m), [1, h, w, m]);
    const outi = tensor(new Int32Array(p * m), [1, h, w, m]);
    const pix = { scale: rs, zeroPoint: rz };
    const fns: (() => void)[] = [
      () => native.quantizeRows(x, p, c, q, rs, rz),
      () => conv2d(xq, pw8, { layout: 'nhwc', out, activation: act, pixelParams: pix } as never),
      () => conv2d(xq, pw8, { layout: 'nhwc', out, pixelParams: pix } as never),
      () => conv2d(xqt, pw8, { layout: 'nhwc', out, activation: act } as never),
      () => conv2d(xqt, pw8Nb, { layout: 'nhwc', out: outi, output: 'int32' } as never),
      () => conv2d(xf, pwf, { layout: 'nhwc', out, activation: act } as never),
    ];
    const calls = Math.max(10, Math.round(3e7 / (p * c * m)));
    for (const f of fns) f();
    const t: number[][] = fns.map(() => []);
    for (let r = 0; r < ROUNDS; r++) fns.forEach((f, i) => t[i].push(cpuUs(f, calls)));
    const med = t.map(median);
    console.log(`${p}x${c}x${m} | ${med.map((v) => v.toFixed(1)).join(' | ')} | ${(med[5] / (med[0] + med[1])).toFixed(2)}×`);
  }
}

main();
