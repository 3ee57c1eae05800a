// Plain JS references for depthwise conv, pooling and resize (double arithmetic, NCHW indexing over either layout),
// and a one-node onnxruntime-node runner for the comparisons.
import { onnxModel, OnnxInitializer, OnnxNode, OnnxType } from '../bench/onnx.js';
import type { Window2d } from '../src/conv/window.js';

export interface Img {
  n: number;
  c: number;
  h: number;
  w: number;
  nhwc: boolean;
}
export const at = (d: Img, n: number, c: number, y: number, x: number) => (d.nhwc ? ((n * d.h + y) * d.w + x) * d.c + c : ((n * d.c + c) * d.h + y) * d.w + x);

/** A convolution window's resolved geometry: the library's own type (src/conv/window.ts). */
export type Geo = Window2d;

export const ACTS: Record<string, (v: number) => number> = {
  none: (v) => v,
  relu: (v) => (Number.isNaN(v) ? v : Math.max(v, 0)),
  relu6: (v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, 0), 6)),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  hardSwish: (v) => v * Math.min(Math.max(v / 6 + 0.5, 0), 1),
  leakyRelu: (v) => (v < 0 ? 0.01 * v : v),
  hardSigmoid: (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1),
  /** `{ hardSwish: { scale: -0.7, shift: 0.3 } }` (HARD_SWISH_AFFINE). */
  hardSwishAffine: (v) => -0.7 * v * Math.min(Math.max(v / 6 + 0.5, 0), 1) + 0.3,
};
/** The object form that ACTS.hardSwishAffine stands for. */
export const HARD_SWISH_AFFINE = { hardSwish: { scale: -0.7, shift: 0.3 } };

/** Depthwise conv: w is [C·M, 1, kH, kW] ('oihw') or [kH, kW, C, M] ('hwcm'). */
export function refDwconv(x: ArrayLike<number>, d: Img, w: ArrayLike<number>, hwcm: boolean, mult: number, g: Geo, bias: ArrayLike<number> | null, act: (v: number) => number): Float64Array {
  const oc = d.c * mult;
  const od: Img = { n: d.n, c: oc, h: g.oh, w: g.ow, nhwc: d.nhwc };
  const y = new Float64Array(d.n * oc * g.oh * g.ow);
  for (let n = 0; n < d.n; n++)
    for (let o = 0; o < oc; o++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let s = bias ? bias[o] : 0;
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh + ky * g.dh - g.pt, ix = ox * g.sw + kx * g.dw - g.pl;
              if (iy < 0 || ix < 0 || iy >= d.h || ix >= d.w) continue;
              const wv = hwcm ? w[(ky * g.kw + kx) * oc + o] : w[(o * g.kh + ky) * g.kw + kx];
              s += x[at(d, n, Math.floor(o / mult), iy, ix)] * wv;
            }
          y[at(od, n, o, oy, ox)] = act(Math.fround(s));
        }
  return y;
}

/** Max (NaN propagates) or average pooling with the given geometry. */
export function refPool(x: ArrayLike<number>, d: Img, g: Geo, max: boolean, countIncludePad: boolean): Float64Array {
  const od: Img = { ...d, h: g.oh, w: g.ow };
  const y = new Float64Array(d.n * d.c * g.oh * g.ow);
  for (let n = 0; n < d.n; n++)
    for (let c = 0; c < d.c; c++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let m = -Infinity, s = 0, cnt = 0, cntPad = 0;
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh + ky * g.dh - g.pt, ix = ox * g.sw + kx * g.dw - g.pl;
              if (iy >= -g.pt && iy < d.h + g.pb && ix >= -g.pl && ix < d.w + g.pr) cntPad++;
              if (iy < 0 || ix < 0 || iy >= d.h || ix >= d.w) continue;
              const v = x[at(d, n, c, iy, ix)];
              m = Number.isNaN(v) || Number.isNaN(m) ? NaN : Math.max(m, v);
              s += v;
              cnt++;
            }
          y[at(od, n, c, oy, ox)] = max ? m : s / (countIncludePad ? cntPad : cnt);
        }
  return y;
}

/** Resize source coordinates, straight from the ONNX Resize definition (float32 arithmetic like onnxruntime). */
export function refResize(x: ArrayLike<number>, d: Img, oh: number, ow: number, sh: number | null, sw: number | null, linear: boolean, coord: string, nearest: string): Float64Array {
  const f = Math.fround;
  // Scales given (sh, sw): float arithmetic step by step; sizes given (null): the exact ratio in/out, rounded to float
  // once — what onnxruntime's results match. Nearest without resizing is the identity.
  const orig = (o: number, scale: number | null, inn: number, out: number) => {
    if (!linear && (scale === null ? inn === out : scale === 1)) return o;
    if (scale === null) {
      const r = inn / out;
      switch (coord) {
        case 'pytorch_half_pixel': return out > 1 ? f((o + 0.5) * r - 0.5) : 0;
        case 'align_corners': return out === 1 ? 0 : f((o * (inn - 1)) / (out - 1));
        case 'asymmetric': return f(o * r);
        case 'tf_half_pixel_for_nn': return f((o + 0.5) * r);
        default: return f((o + 0.5) * r - 0.5);
      }
    }
    const s = f(scale);
    switch (coord) {
      case 'pytorch_half_pixel': return out > 1 ? f(f(f(o + 0.5) / s) - 0.5) : 0;
      case 'align_corners': return out === 1 ? 0 : f(f(o * (inn - 1)) / (out - 1));
      case 'asymmetric': return f(o / s);
      case 'tf_half_pixel_for_nn': return f(f(o + 0.5) / s);
      default: return f(f(f(o + 0.5) / s) - 0.5);
    }
  };
  const round = (v: number) => {
    switch (nearest) {
      case 'round_prefer_ceil': return Math.floor(v + 0.5) === v + 0.5 && v < 0 ? Math.floor(v) : Math.round(v);
      case 'floor': return Math.floor(v);
      case 'ceil': return Math.ceil(v);
      default: return v === Math.floor(v) + 0.5 ? Math.floor(v) : Math.round(v);
    }
  };
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const od: Img = { ...d, h: oh, w: ow };
  const y = new Float64Array(d.n * d.c * oh * ow);
  for (let n = 0; n < d.n; n++)
    for (let c = 0; c < d.c; c++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const yo = orig(oy, sh, d.h, oh), xo = orig(ox, sw, d.w, ow);
          let v: number;
          if (!linear) v = x[at(d, n, c, clamp(round(yo), d.h - 1), clamp(round(xo), d.w - 1))];
          else {
            const yc = clamp(yo, d.h - 1), xc = clamp(xo, d.w - 1);
            const y0 = Math.floor(yc), x0 = Math.floor(xc), y1 = Math.min(y0 + 1, d.h - 1), x1 = Math.min(x0 + 1, d.w - 1);
            const fy = yc - y0, fx = xc - x0;
            const p = (yy: number, xx: number) => x[at(d, n, c, yy, xx)];
            v = (p(y0, x0) * (1 - fx) + p(y0, x1) * fx) * (1 - fy) + (p(y1, x0) * (1 - fx) + p(y1, x1) * fx) * fy;
          }
          y[at(od, n, c, oy, ox)] = v;
        }
  return y;
}

/** Largest |got − want| relative to 1 + |want| (NaN must match NaN), with the index, for error messages. */
export function worst(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; i: number } {
  let err = 0, wi = -1;
  if (got.length !== want.length) return { err: Infinity, i: -1 };
  for (let i = 0; i < want.length; i++) {
    const e = Number.isNaN(want[i]) ? (Number.isNaN(got[i]) ? 0 : Infinity) : Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(e <= err)) [err, wi] = [e, i];
  }
  return { err, i: wi };
}

/** NHWC → NCHW copy. */
export function toNchw(x: ArrayLike<number>, n: number, h: number, w: number, c: number): Float32Array {
  const y = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) y[((b * c + ch) * h + yy) * w + xx] = x[((b * h + yy) * w + xx) * c + ch];
  return y;
}

let ortMod: typeof import('onnxruntime-node') | null = null;
/** Runs one ONNX node on onnxruntime-node (CPU, one thread) over input `x` (NCHW dims) and returns output 0. */
export async function ortRun(node: OnnxNode, x: Float32Array, dims: number[], initializers: OnnxInitializer[] = [], opset = 19): Promise<Float32Array> {
  ortMod ??= await import('onnxruntime-node');
  const model = onnxModel({
    nodes: [node],
    inputs: [{ name: 'x', type: OnnxType.FLOAT, dims }],
    outputs: [{ name: 'y', type: OnnxType.FLOAT, dims: ['a', 'b', 'c', 'd'] }],
    initializers,
    opset,
  });
  const s = await ortMod.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  try {
    const r = await s.run({ x: new ortMod.Tensor('float32', x, dims) });
    return r.y.data as Float32Array;
  } finally {
    await s.release();
  }
}
