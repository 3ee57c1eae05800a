/**
 * Fake-quantized conv activations for the int8 simulations (bench/int8-actq-sim.ts, bench/int8-wq-sim.ts): while a
 * scheme is set with {@link setActScheme}, the input of every groups-1 FusedConv is quantized and dequantized in
 * float32 before the float32 conv. Schemes: `none` (float32), `t8` per tensor 8-bit, `p8` per pixel, `g32x8` per
 * pixel and group of 32 channels, `p8c99.9` per pixel clipped to the 99.9th percentile, a `pw` suffix: pointwise
 * convs only. Importing this module replaces the registered FusedConv op.
 * @module
 */
import { getOnnxOp, registerOnnxOp } from '../src/onnx/ops/registry.js';
import type { FusedConvExtra } from '../src/onnx/ops/conv.js';
import { mk } from '../src/onnx/value.js';

export interface Scheme { kind: 'none' | 't' | 'p' | 'g'; group: number; bits: number; clip: number; pointwiseOnly: boolean }
export function parseActScheme(s: string): Scheme {
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

/** Sets the activation scheme of every later FusedConv run (null: float32, as `none`). */
export function setActScheme(s: Scheme | null): void {
  active = s;
}
