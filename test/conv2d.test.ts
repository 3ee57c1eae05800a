// conv2d / convTranspose2d / packConvWeights / foldBatchNorm against a plain JS reference (double accumulation),
// on every conv kernel this CPU can run, plus onnxruntime-node's Conv/ConvTranspose for a handful of shapes.
import { afterEach, describe, expect, it } from 'vitest';
import {
  conv2d,
  conv2dAsync,
  convTranspose2d,
  convTranspose2dAsync,
  cpuInfo,
  foldBatchNorm,
  getMaxIsa,
  getNumThreads,
  packConvWeights,
  quantize,
  QuantizedTensor,
  rand,
  setMaxIsa,
  setNumThreads,
  Tensor,
  tensor,
  zeros,
} from '../src/index.js';
import type { ConvActivation, Conv2dOptions, ConvPads, Int8Conv2dOptions } from '../src/index.js';
import { expectClose, F32_GEMM_REL_TOL, gelu, supportedIsas, unsupportedIsas, expectSameArray } from './helpers.js';
import { onnxModel, OnnxType } from '../bench/onnx.js';
import { mulberry32 } from '../src/random.js';
import type { Window2d } from '../src/conv/window.js';

const best = getMaxIsa();
const threads0 = getNumThreads();
afterEach(() => {
  setMaxIsa(best);
  setNumThreads(threads0);
});

// Named tolerances: blocked f32 accumulation (as the GEMM tests) plus the vector exp/erf approximations.
const CONV_REL_TOL = 2 * F32_GEMM_REL_TOL;
const CONV_ABS_TOL = 2e-6;

// The package's generator over the raw seed (the stream these tests were written against).
const rng = mulberry32;

/** The reference's kernel/stride/dilation fields are the library's window geometry. */
interface RefSpec extends Pick<Window2d, 'kh' | 'kw' | 'sh' | 'sw' | 'dh' | 'dw'> {
  n: number;
  c: number;
  h: number;
  w: number;
  m: number;
  pads: [number, number, number, number];
  groups: number;
  transposed: boolean;
  outPad: [number, number];
}

function act(v: number, a: ConvActivation, o: Conv2dOptions): number {
  if (Number.isNaN(v)) return v;
  if (typeof a === 'object' && 'hardSwish' in a) return (a.hardSwish.scale ?? 1) * act(v, 'hardSwish', o) + (a.hardSwish.shift ?? 0);
  switch (a) {
    case 'relu': return Math.max(v, 0);
    case 'gelu': return gelu(v);
    case 'relu6': return Math.min(Math.max(v, 0), 6);
    case 'clip': return Math.min(Math.max(v, o.clipMin ?? -Infinity), o.clipMax ?? Infinity);
    case 'leakyRelu': return v < 0 ? (o.alpha ?? 0.01) * v : v;
    case 'sigmoid': return 1 / (1 + Math.exp(-v));
    case 'hardSigmoid': return Math.min(1, Math.max(0, (o.alpha ?? 0.2) * v + (o.beta ?? 0.5)));
    case 'hardSwish': return v * Math.min(1, Math.max(0, v / 6 + 0.5));
    default: return v;
  }
}

/**
 * Reference over NCHW x and canonical weights (OIHW for conv, IOHW for transposed); returns NCHW output and the
 * Σ|x·w| + |bias| + |residual| magnitude per output for the tolerance.
 */
function refConv(
  s: RefSpec, x: Float32Array, wt: Float32Array, bias: Float32Array | null, res: Float32Array | null, a: ConvActivation, o: Conv2dOptions,
): { y: Float64Array; mag: Float64Array; oh: number; ow: number } {
  const ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
  const oh = s.transposed ? s.sh * (s.h - 1) + s.outPad[0] + ekh - s.pads[0] - s.pads[2] : Math.floor((s.h + s.pads[0] + s.pads[2] - ekh) / s.sh) + 1;
  const ow = s.transposed ? s.sw * (s.w - 1) + s.outPad[1] + ekw - s.pads[1] - s.pads[3] : Math.floor((s.w + s.pads[1] + s.pads[3] - ekw) / s.sw) + 1;
  const cg = s.c / s.groups, mg = s.m / s.groups;
  const y = new Float64Array(s.n * s.m * oh * ow), mag = new Float64Array(y.length);
  for (let b = 0; b < s.n; b++)
    for (let mo = 0; mo < s.m; mo++) {
      const g = Math.floor(mo / mg), j = mo % mg;
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let acc = 0, mg2 = 0;
          for (let ky = 0; ky < s.kh; ky++)
            for (let kx = 0; kx < s.kw; kx++) {
              let iy: number, ix: number;
              if (!s.transposed) {
                iy = oy * s.sh + ky * s.dh - s.pads[0];
                ix = ox * s.sw + kx * s.dw - s.pads[1];
              } else {
                const ny = oy + s.pads[0] - ky * s.dh, nx = ox + s.pads[1] - kx * s.dw;
                if (ny < 0 || nx < 0 || ny % s.sh || nx % s.sw) continue;
                iy = ny / s.sh;
                ix = nx / s.sw;
              }
              if (iy < 0 || ix < 0 || iy >= s.h || ix >= s.w) continue;
              for (let ci = 0; ci < cg; ci++) {
                const xv = x[((b * s.c + g * cg + ci) * s.h + iy) * s.w + ix];
                const wv = s.transposed ? wt[(((g * cg + ci) * mg + j) * s.kh + ky) * s.kw + kx] : wt[((mo * cg + ci) * s.kh + ky) * s.kw + kx];
                acc += xv * wv;
                mg2 += Math.abs(xv * wv);
              }
            }
          const oi = ((b * s.m + mo) * oh + oy) * ow + ox;
          let v = Math.fround(acc);
          if (bias) {
            v = Math.fround(v + bias[mo]);
            mg2 += Math.abs(bias[mo]);
          }
          if (res) {
            v = Math.fround(v + res[oi]);
            mg2 += Math.abs(res[oi]);
          }
          y[oi] = act(v, a, o);
          mag[oi] = mg2;
        }
    }
  return { y, mag, oh, ow };
}

// Layout helpers for the tests (plain loops at test sizes).
function nchwToNhwc(t: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const o = new Float32Array(t.length);
  for (let b = 0; b < n; b++) for (let ci = 0; ci < c; ci++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) o[((b * h + y) * w + x) * c + ci] = t[((b * c + ci) * h + y) * w + x];
  return o;
}
function nchwToNhwc64(t: Float64Array, n: number, c: number, h: number, w: number): Float64Array {
  const o = new Float64Array(t.length);
  for (let b = 0; b < n; b++) for (let ci = 0; ci < c; ci++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) o[((b * h + y) * w + x) * c + ci] = t[((b * c + ci) * h + y) * w + x];
  return o;
}
/** [A, B, kh, kw] → [kh, kw, B, A] (oihw → hwio, iohw → hwoi). */
function toHw(t: Float32Array, a: number, b: number, kh: number, kw: number): Float32Array {
  const o = new Float32Array(t.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) o[((y * kw + x) * b + j) * a + i] = t[((i * b + j) * kh + y) * kw + x];
  return o;
}

const CHANNELS = [1, 3, 7, 15, 17, 33, 63, 65];
// The last: PP-LCNetV3's affine after the activation, fused into the epilogue (scale·hardSwish(x) + shift).
const ACTS: ConvActivation[] = ['none', 'relu', 'gelu', 'relu6', 'clip', 'leakyRelu', 'sigmoid', 'hardSigmoid', 'hardSwish', { hardSwish: { scale: -0.7, shift: 0.3 } }];
const actName = (a: ConvActivation) => (typeof a === 'string' ? a : JSON.stringify(a));
const PAD_MODES = ['explicit', 'valid', 'same', 'same_lower', 'number'] as const;

interface Case {
  spec: RefSpec;
  padOpt: ConvPads;
  nhwc: boolean;
  act: ConvActivation;
  opts: Conv2dOptions;
  bias: boolean;
  residual: boolean;
}

/** Random cases: every kernel size, stride, dilation, pad mode, group kind, channel count, batch, layout, epilogue. */
function makeCases(seed: number, count: number, transposed: boolean): Case[] {
  const r = rng(seed);
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const out: Case[] = [];
  for (let i = 0; out.length < count; i++) {
    const k = [1, 3, 5, 7][i % 4];
    const kh = k, kw = r() < 0.2 ? pick([1, 3]) : k;
    const sh = [1, 2][(i >> 2) % 2], sw = r() < 0.2 ? 3 - sh : sh;
    const dh = [1, 2][(i >> 3) % 2], dw = dh;
    const c0 = CHANNELS[i % CHANNELS.length];
    const gk = i % 3; // 0: groups 1, 1: groups = C (depthwise-like), 2: in between
    let groups = 1, c = c0, m = pick(CHANNELS);
    if (gk === 1) {
      groups = c0;
      m = c0 * (r() < 0.3 ? 2 : 1);
    } else if (gk === 2) {
      groups = pick([2, 3]);
      c = Math.max(1, Math.ceil(c0 / groups)) * groups;
      m = Math.max(1, Math.ceil(pick(CHANNELS) / groups)) * groups;
    }
    const n = pick([1, 3]);
    const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
    const h = transposed ? 2 + Math.floor(r() * 5) : Math.max(ekh, 1 + Math.floor(r() * 11)), w = transposed ? 2 + Math.floor(r() * 5) : Math.max(ekw, 1 + Math.floor(r() * 11));
    const pm = PAD_MODES[i % PAD_MODES.length];
    const outPad: [number, number] = transposed && sh > 1 && r() < 0.5 ? [1, sw > 1 ? 1 : 0] : [0, 0];
    let padOpt: ConvPads;
    let pads: [number, number, number, number];
    const same = (t: number, lower: boolean) => (lower ? Math.ceil(t / 2) : Math.floor(t / 2));
    if (pm === 'valid') {
      padOpt = 'valid';
      pads = [0, 0, 0, 0];
    } else if (pm === 'same' || pm === 'same_lower') {
      padOpt = pm;
      const tot = (ii: number, s: number, ek: number, op: number) => Math.max(0, transposed ? s * (ii - 1) + op + ek - ii * s : (Math.ceil(ii / s) - 1) * s + ek - ii);
      const th = tot(h, sh, ekh, outPad[0]), tw = tot(w, sw, ekw, outPad[1]);
      const lo = pm === 'same_lower';
      pads = [same(th, lo), same(tw, lo), th - same(th, lo), tw - same(tw, lo)];
    } else if (pm === 'number') {
      const p = Math.floor(r() * 3);
      padOpt = p;
      pads = [p, p, p, p];
    } else {
      pads = [0, 1, 2, 3].map(() => Math.floor(r() * Math.min(4, transposed ? ekh : 4))) as [number, number, number, number];
      padOpt = pads;
    }
    if (transposed) {
      const oh = sh * (h - 1) + outPad[0] + ekh - pads[0] - pads[2], ow = sw * (w - 1) + outPad[1] + ekw - pads[1] - pads[3];
      if (oh < 1 || ow < 1) continue;
    }
    // Keep the JS reference fast: at most ~3M multiply-adds a case.
    const macs = n * h * w * c * (m / groups) * kh * kw * (transposed ? 1 : 1 / (sh * sw));
    if (macs > 3e6) continue;
    const a = ACTS[i % ACTS.length];
    const opts: Conv2dOptions = {};
    if (a === 'clip') {
      opts.clipMin = -0.5;
      opts.clipMax = 0.75;
    }
    if (a === 'leakyRelu') opts.alpha = 0.1;
    if (a === 'hardSigmoid' && r() < 0.5) {
      opts.alpha = 0.3;
      opts.beta = 0.4;
    }
    out.push({
      spec: { n, c, h, w, m, kh, kw, sh, sw, dh, dw, pads, groups, transposed, outPad },
      padOpt,
      nhwc: r() < 0.5,
      act: a,
      opts,
      bias: r() < 0.7,
      residual: r() < 0.3,
    });
  }
  return out;
}

function runCase(cs: Case, seed: number, what: string, useAsync = false): Promise<void> | void {
  const s = cs.spec;
  const x = rand([s.n, s.c, s.h, s.w], { seed }).data as Float32Array;
  const wshape = s.transposed ? [s.c, s.m / s.groups, s.kh, s.kw] : [s.m, s.c / s.groups, s.kh, s.kw];
  const wt = rand(wshape, { seed: seed + 1 }).data as Float32Array;
  const bias = cs.bias ? (rand([s.m], { seed: seed + 2 }).data as Float32Array) : null;
  const ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
  const oh = s.transposed ? s.sh * (s.h - 1) + s.outPad[0] + ekh - s.pads[0] - s.pads[2] : Math.floor((s.h + s.pads[0] + s.pads[2] - ekh) / s.sh) + 1;
  const ow = s.transposed ? s.sw * (s.w - 1) + s.outPad[1] + ekw - s.pads[1] - s.pads[3] : Math.floor((s.w + s.pads[1] + s.pads[3] - ekw) / s.sw) + 1;
  const res = cs.residual ? (rand([s.n, s.m, oh, ow], { seed: seed + 3 }).data as Float32Array) : null;
  const ref = refConv(s, x, wt, bias, res, cs.act, cs.opts);
  const opts: Conv2dOptions & { outputPadding?: [number, number] } = {
    ...cs.opts,
    strides: [s.sh, s.sw],
    dilations: [s.dh, s.dw],
    pads: cs.padOpt,
    groups: s.groups,
    activation: cs.act,
    bias: bias ? tensor(bias, [s.m]) : null,
  };
  if (s.transposed) opts.outputPadding = s.outPad;
  let xt: Tensor, wT: Tensor, want = ref.y, mag = ref.mag;
  if (cs.nhwc) {
    xt = tensor(nchwToNhwc(x, s.n, s.c, s.h, s.w), [s.n, s.h, s.w, s.c]);
    const hw = toHw(wt, wshape[0], wshape[1], s.kh, s.kw);
    wT = tensor(hw, [s.kh, s.kw, wshape[1], wshape[0]]);
    if (res) opts.residual = tensor(nchwToNhwc(res, s.n, s.m, oh, ow), [s.n, oh, ow, s.m]);
    opts.layout = 'nhwc';
    want = nchwToNhwc64(ref.y, s.n, s.m, oh, ow);
    mag = nchwToNhwc64(ref.mag, s.n, s.m, oh, ow);
  } else {
    xt = tensor(x, [s.n, s.c, s.h, s.w]);
    wT = tensor(wt, wshape);
    if (res) opts.residual = tensor(res, [s.n, s.m, oh, ow]);
  }
  const desc = `${what} ${JSON.stringify({ ...s, nhwc: cs.nhwc, act: cs.act, pad: cs.padOpt, bias: !!bias, res: !!res })}`;
  const check = (got: Tensor) => {
    expect(got.shape, desc).toEqual(cs.nhwc ? [s.n, oh, ow, s.m] : [s.n, s.m, oh, ow]);
    expectClose(got, want, mag, CONV_REL_TOL, CONV_ABS_TOL, desc);
  };
  if (useAsync) return (s.transposed ? convTranspose2dAsync(xt, wT, opts) : conv2dAsync(xt, wT, opts)).then(check);
  check(s.transposed ? convTranspose2d(xt, wT, opts) : conv2d(xt, wT, opts));
}

/** One ISA cap per distinct conv kernel (several caps select the same f32 kernels). */
function kernelIsas(): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const isa of supportedIsas()) {
    setMaxIsa(isa);
    const k = cpuInfo().kernels['conv2d.f32'];
    if (!seen.has(k)) {
      seen.add(k);
      out.push(isa);
    }
  }
  setMaxIsa(best);
  return out;
}

describe('conv2d f32 on every conv kernel this CPU has', () => {
  it('reports the ISA levels it cannot test here', () => {
    const missing = unsupportedIsas();
    if (missing.length) console.log(`conv2d: SKIPPED (CPU lacks): ${missing.join(', ')}`);
    expect(cpuInfo().kernels['conv2d.f32']).toMatch(/^f32_conv_\d+x\d+__/);
    expect(cpuInfo().kernels['convTranspose2d.f32']).toMatch(/^f32_conv_/);
  });
  for (const isa of kernelIsas()) {
    it(`${isa}: random shapes (kernel 1/3/5/7, stride 1/2, dilation 1/2, pads, groups, layouts, epilogues)`, () => {
      setMaxIsa(isa as never);
      const kernel = cpuInfo().kernels['conv2d.f32'];
      const cases = makeCases(isa.length * 7 + 1, 72, false);
      cases.forEach((cs, i) => runCase(cs, 100 + i * 5, kernel));
    });
    it(`${isa}: convTranspose2d random shapes (output padding, groups, dilation, layouts)`, () => {
      setMaxIsa(isa as never);
      const kernel = cpuInfo().kernels['convTranspose2d.f32'];
      const cases = makeCases(isa.length * 11 + 3, 48, true);
      cases.forEach((cs, i) => runCase(cs, 900 + i * 5, kernel));
    });
    it(`${isa}: few and odd output channel counts (1-5, 8, 15-17, 24, 33, 40, 48) with every epilogue`, () => {
      // Narrow tiles: the epilogue computes only the valid columns (flat when the tile's rows are contiguous, row
      // tails gathered otherwise) and thin layers run on the narrow-panel variant where there is one.
      setMaxIsa(isa as never);
      const kernel = cpuInfo().kernels['conv2d.f32'];
      let seed = 4000;
      for (const m of [1, 2, 3, 4, 5, 8, 15, 16, 17, 24, 33, 40, 48])
        for (const a of ACTS) {
          const k = (m + seed) % 2 ? 1 : 3, groups = m === 40 ? 2 : 1, c = m === 40 ? 6 : 5;
          const spec: RefSpec = { n: 1, c, h: 7, w: 5, m, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, pads: [k >> 1, k >> 1, k >> 1, k >> 1], groups, transposed: false, outPad: [0, 0] };
          const opts: Conv2dOptions = a === 'clip' ? { clipMin: -0.5, clipMax: 0.75 } : a === 'leakyRelu' ? { alpha: 0.1 } : {};
          runCase({ spec, padOpt: spec.pads, nhwc: seed % 3 !== 0, act: a, opts, bias: seed % 2 === 0, residual: seed % 5 < 2 }, seed, `${kernel} m=${m} ${actName(a)}`);
          seed += 7;
        }
    });
  }
  it('covers every epilogue, pad mode and group kind in the sweep', () => {
    const cases = makeCases(8, 72, false);
    for (const a of ACTS) expect(cases.some((c) => c.act === a)).toBe(true);
    expect(new Set(cases.map((c) => c.spec.groups === c.spec.c && c.spec.c > 1 ? 'dw' : c.spec.groups > 1 ? 'grouped' : 'dense')).size).toBe(3);
    expect(cases.some((c) => c.spec.n === 3) && cases.some((c) => c.nhwc) && cases.some((c) => !c.nhwc)).toBe(true);
  });
  it('tile edges: output channels and pixels around MR/NR, K across the 1024 block', () => {
    let seed = 5000;
    for (const m of [1, 7, 8, 15, 16, 17, 31, 32, 33, 65]) {
      for (const [c, k] of [[3, 3], [130, 3], [1100, 1]]) {
        if (c * k * k * m > 400000) continue;
        const spec: RefSpec = { n: 1, c, h: 5, w: 4, m, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, pads: [1, 1, 1, 1], groups: 1, transposed: false, outPad: [0, 0] };
        if (k === 1) spec.pads = [0, 0, 0, 0];
        runCase({ spec, padOpt: spec.pads, nhwc: seed % 2 === 0, act: 'relu', opts: {}, bias: true, residual: seed % 3 === 0 }, seed, 'tile edge');
        seed += 7;
      }
    }
  });
  it('convTranspose2d phase split (stride > 1, >= 16 channels a group): strides 2/3 and 1x2, pads, dilation, groups, epilogues', () => {
    let seed = 8000;
    const specs: [number, number, number, number, number, number, number, number, ConvActivation, boolean][] = [
      // c, m, k, sh, sw, dh, groups, pad, act, residual
      [32, 16, 4, 2, 2, 1, 1, 1, 'relu', false],
      [17, 9, 3, 2, 2, 1, 1, 0, 'hardSwish', true],
      [64, 33, 3, 3, 3, 2, 1, 2, 'none', false],
      [48, 20, 2, 1, 2, 1, 2, 0, 'sigmoid', true],
      [40, 65, 5, 2, 2, 1, 1, 2, 'gelu', false],
    ];
    for (const [c, m, k, sh, sw, dh, groups, pad, a, res] of specs)
      for (const nhwc of [false, true]) {
        const spec: RefSpec = { n: 2, c, h: 5, w: 4, m, kh: k, kw: k, sh, sw, dh, dw: dh, pads: [pad, pad, pad, pad], groups, transposed: true, outPad: [sh > 1 ? 1 : 0, 0] };
        runCase({ spec, padOpt: spec.pads, nhwc, act: a, opts: {}, bias: true, residual: res }, seed, 'phase split');
        seed += 11;
      }
  });
  it('propagates NaN and Inf through every epilogue', () => {
    const x = tensor(new Float32Array([NaN, 1, Infinity, 2]), [1, 1, 2, 2]);
    const w = tensor(new Float32Array([1]), [1, 1, 1, 1]);
    for (const a of ACTS) {
      const y = conv2d(x, w, { activation: a, clipMin: -1, clipMax: 1 }).data as Float32Array;
      expect(Number.isNaN(y[0]), actName(a)).toBe(true);
      const want = act(Infinity, a, { clipMin: -1, clipMax: 1 });
      if (a === 'gelu') expect(y[2]).toBe(Infinity);
      else if (a !== 'hardSwish') expect(y[2], actName(a)).toBe(want);
    }
  });
});

describe('packConvWeights and foldBatchNorm', () => {
  it('the packed classes refuse a direct constructor call, whatever the dims argument (a TypeError, not a null read)', () => {
    const p = packConvWeights(rand([4, 3, 3, 3], { seed: 9 }));
    const q = packConvWeights(quantize(rand([4, 3, 1, 1], { seed: 10 }), { perChannel: true } as never));
    for (const [Cls, h] of [[p.constructor, p.handle], [q.constructor, q.handle]] as const)
      for (const dims of [null, {}, { c: 3, m: 4, kh: 3, kw: 3, groups: 1, bias: 5 }, 7])
        expect(() => new (Cls as new (...a: unknown[]) => unknown)(h, dims, false)).toThrow(/instances are made by packConvWeights/);
  });
  it('packed weights match per-call packing, bit for bit, and repack when the ISA cap changes', () => {
    const x = rand([2, 17, 9, 9], { seed: 1 });
    const w = rand([33, 17, 3, 3], { seed: 2 });
    const b = rand([33], { seed: 3 });
    const want = conv2d(x, w, { pads: 'same', strides: 2, bias: b, activation: 'relu6' });
    const p = packConvWeights(w, { bias: b });
    expect(p.bytes).toBeGreaterThan(33 * 17 * 9 * 4 - 1);
    expectSameArray(conv2d(x, p, { pads: 'same', strides: 2, activation: 'relu6' }).data, want.data);
    for (const isa of kernelIsas()) {
      setMaxIsa(isa as never);
      const ref = conv2d(x, w, { pads: 'same', strides: 2, bias: b, activation: 'relu6' });
      expectSameArray(conv2d(x, p, { pads: 'same', strides: 2, activation: 'relu6' }).data, ref.data, { label: isa });
    }
  });
  it('batch norm folded at pack time equals conv followed by batch norm', () => {
    const m = 20;
    const x = rand([3, 6, 7, 8], { seed: 4 });
    const w = rand([m, 3, 3, 3], { seed: 5 });
    const b = rand([m], { seed: 6 });
    const bn = { gamma: rand([m], { seed: 7 }), beta: rand([m], { seed: 8 }), mean: rand([m], { seed: 9 }), variance: tensor(Float32Array.from(rand([m], { seed: 10 }).data as Float32Array, (v) => Math.abs(v) + 0.1), [m]), epsilon: 1e-3 };
    const plain = conv2d(x, w, { groups: 2, pads: 1, bias: b }).data as Float32Array;
    const plane = plain.length / (3 * m);
    const want = new Float64Array(plain.length);
    const g = bn.gamma.data as Float32Array, be = bn.beta.data as Float32Array, mu = bn.mean.data as Float32Array, va = bn.variance.data as Float32Array;
    for (let i = 0; i < plain.length; i++) {
      const o = Math.floor(i / plane) % m;
      want[i] = ((plain[i] - mu[o]) / Math.sqrt(va[o] + 1e-3)) * g[o] + be[o];
    }
    const p = packConvWeights(w, { groups: 2, bias: b, batchNorm: bn });
    expectClose(conv2d(x, p, { pads: 1 }), want, null, 1e-5, 1e-5, 'bn packed');
    const f = foldBatchNorm(w, b, bn, { weightLayout: 'oihw', groups: 2 });
    expectClose(conv2d(x, f.weight, { groups: 2, pads: 1, bias: f.bias }), want, null, 1e-5, 1e-5, 'foldBatchNorm');
    // hwio folding scales the last axis.
    const whwio = tensor(toHw(w.data as Float32Array, m, 3, 3, 3), [3, 3, 3, m]);
    const f2 = foldBatchNorm(whwio, b, bn, { weightLayout: 'hwio' });
    expect(Array.from(f2.weight.data)).toEqual(Array.from(toHw(foldBatchNorm(w, b, bn, { groups: 1 }).weight.data as Float32Array, m, 3, 3, 3)));
  });
});

describe('threads and async', () => {
  it('results are identical at 1 and several threads, sync and async', async () => {
    const x = rand([2, 24, 24, 32], { seed: 11 });
    const w = rand([3, 3, 32, 64], { seed: 12 });
    const res = rand([2, 12, 12, 64], { seed: 13 });
    const o: Conv2dOptions = { layout: 'nhwc', strides: 2, pads: 'same', activation: 'hardSwish', residual: res };
    setNumThreads(1);
    const one = Array.from(conv2d(x, w, o).data);
    setNumThreads(4);
    expectSameArray(conv2d(x, w, o).data, one);
    expectSameArray((await conv2dAsync(x, w, o)).data, one);
    const nchw = rand([1, 8, 6, 6], { seed: 14 });
    const wt = rand([8, 4, 3, 3], { seed: 15 });
    const t1 = convTranspose2d(nchw, wt, { strides: 2, pads: [1, 1, 1, 1], outputPadding: 1 });
    expect(t1.shape).toEqual([1, 4, 12, 12]);
    expect(Array.from((await convTranspose2dAsync(nchw, wt, { strides: 2, pads: [1, 1, 1, 1], outputPadding: 1 })).data)).toEqual(Array.from(t1.data));
  });
  it('async runs the sweep cases like sync', async () => {
    const cases = makeCases(77, 12, false);
    for (let i = 0; i < cases.length; i++) await runCase(cases[i], 7000 + i, 'async', true);
  });
  it('async rejects bad input with the sync error, and an aborted signal with AbortError', async () => {
    const x = rand([1, 3, 5, 5], { seed: 1 });
    await expect(conv2dAsync(x, rand([4, 2, 3, 3]))).rejects.toThrow(RangeError);
    const ac = new AbortController();
    ac.abort();
    await expect(conv2dAsync(x, rand([4, 3, 3, 3]), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('bad input', () => {
  const x = rand([1, 4, 6, 6], { seed: 1 });
  const w = rand([8, 4, 3, 3], { seed: 2 });
  it('names the argument in a RangeError / TypeError', () => {
    expect(() => conv2d(x, rand([8, 3, 3, 3]))).toThrow(/conv2d: x has 4 channels .* w expects 3/);
    expect(() => conv2d(x, rand([8, 4, 7, 7]))).toThrow(/kernel 7×7 .* larger than the padded input 6×6/);
    expect(() => conv2d(x, w, { pads: [1, -1, 0, 0] })).toThrow(/pads must be non-negative/);
    expect(() => conv2d(x, w, { pads: [1, 1] as never })).toThrow(/pads must be \[top, left, bottom, right\]/);
    expect(() => conv2d(x, w, { pads: 'full' as never })).toThrow(RangeError);
    expect(() => conv2d(x, rand([8, 4, 3]))).toThrow(/w must be 4-D/);
    expect(() => conv2d(x, w, { weightLayout: 'iohw' })).toThrow(/weightLayout must be 'oihw' or 'hwio'/);
    expect(() => conv2d(x, w, { layout: 'nhwc' })).toThrow(/x has 6 channels/);
    expect(() => conv2d(x, w, { groups: 3 })).toThrow(/groups \(3\) must divide the output channels \(8\)/);
    expect(() => conv2d(x, w, { groups: 0 })).toThrow(/groups must be a positive integer/);
    expect(() => conv2d(x, w, { groups: 2 })).toThrow(/x has 4 channels .* w expects 8/);
    expect(() => conv2d(x, w, { strides: 0 })).toThrow(/strides must hold integers >= 1/);
    expect(() => conv2d(x, w, { dilations: [1, 1.5] as never })).toThrow(/dilations/);
    expect(() => conv2d(x, w, { bias: rand([7]) })).toThrow(/bias has 7 elements/);
    expect(() => conv2d(x, w, { residual: rand([1, 8, 5, 5]) })).toThrow(/residual has shape \[1, 8, 5, 5\], needs the output's \[1, 8, 4, 4\]/);
    expect(() => conv2d(x, w, { out: rand([1, 8, 4, 5]) })).toThrow(/out has shape/);
    const same = rand([1, 4, 6, 6], { seed: 3 });
    expect(() => conv2d(same, rand([4, 4, 1, 1]), { out: same })).toThrow(/out must not share memory with x/);
    const r = rand([1, 4, 6, 6], { seed: 4 });
    expect(() => conv2d(same, rand([4, 4, 1, 1]), { out: r, residual: r })).toThrow(/out must not share memory with residual/);
    expect(() => conv2d(x, w, { activation: 'swish' as never })).toThrow(TypeError);
    expect(() => conv2d(x, w, { activation: 'clip', clipMin: 2, clipMax: 1 })).toThrow(/clipMin \(2\) must be <= clipMax \(1\)/);
    expect(() => conv2d(rand([4, 6, 6]), w)).toThrow(/x must be 4-D/);
    expect(() => conv2d(tensor(new Int32Array(144), [1, 4, 6, 6]), w)).toThrow(/x.dtype must be float32/);
    expect(() => conv2d(x, packConvWeights(w, { bias: rand([8]) }), { bias: rand([8]) })).toThrow(/already hold one/);
    expect(() => conv2d(x, packConvWeights(rand([4, 8, 3, 3]), { transposed: true }))).toThrow(/packed for convTranspose2d/);
    expect(() => convTranspose2d(x, rand([4, 2, 3, 3]), { strides: 2, outputPadding: 2 })).toThrow(/outputPadding/);
    expect(() => convTranspose2d(x, rand([4, 2, 1, 1]), { pads: [3, 3, 3, 3] })).toThrow(/leave an empty output/);
    expect(() => packConvWeights(w, { batchNorm: { gamma: rand([8]), beta: rand([8]), mean: rand([8]), variance: tensor(new Float32Array(8).fill(-1), [8]) } })).toThrow(/variance\[0\] \+ epsilon must be > 0/);
  });
});

describe('onnxruntime-node Conv / ConvTranspose agree', () => {
  const shapes: { x: number[]; w: number[]; strides: number[]; pads: number[]; dil: number[]; groups: number; t?: boolean; op?: number[] }[] = [
    { x: [1, 16, 14, 14], w: [32, 16, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dil: [1, 1], groups: 1 },
    { x: [2, 3, 17, 15], w: [8, 3, 5, 5], strides: [2, 2], pads: [2, 1, 2, 1], dil: [1, 1], groups: 1 },
    { x: [1, 12, 10, 10], w: [12, 4, 3, 3], strides: [1, 2], pads: [2, 2, 2, 2], dil: [2, 2], groups: 3 },
    { x: [1, 24, 8, 8], w: [48, 24, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dil: [1, 1], groups: 1 },
    { x: [1, 8, 5, 6], w: [8, 3, 4, 4], strides: [2, 2], pads: [1, 1, 1, 1], dil: [1, 1], groups: 1, t: true, op: [1, 0] },
    { x: [1, 6, 4, 4], w: [6, 2, 3, 3], strides: [2, 2], pads: [0, 1, 1, 0], dil: [1, 1], groups: 2, t: true, op: [0, 1] },
  ];
  for (const s of shapes) {
    it(`${s.t ? 'ConvTranspose' : 'Conv'} x[${s.x}] w[${s.w}] s${s.strides} p${s.pads} d${s.dil} g${s.groups}`, async () => {
      const ort = await import('onnxruntime-node');
      const x = rand(s.x, { seed: 21 });
      const w = rand(s.w, { seed: 22 });
      const mOut = s.t ? s.w[1] * s.groups : s.w[0];
      const b = rand([mOut], { seed: 23 });
      const attrs: Record<string, number | number[]> = { strides: s.strides, pads: s.pads, dilations: s.dil, group: s.groups, kernel_shape: s.w.slice(2) };
      if (s.op) attrs.output_padding = s.op;
      const model = onnxModel({
        nodes: [{ op: s.t ? 'ConvTranspose' : 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs }],
        inputs: [{ name: 'x', type: OnnxType.FLOAT, dims: s.x }],
        outputs: [{ name: 'y', type: OnnxType.FLOAT, dims: ['n', 'm', 'h', 'w'] }],
        initializers: [
          { name: 'w', type: OnnxType.FLOAT, dims: s.w, data: w.data },
          { name: 'b', type: OnnxType.FLOAT, dims: [mOut], data: b.data },
        ],
      });
      const sess = await ort.InferenceSession.create(model);
      const r = await sess.run({ x: new ort.Tensor('float32', x.data as Float32Array, s.x) });
      const want = r.y;
      const opts = { strides: s.strides as [number, number], pads: s.pads as [number, number, number, number], dilations: s.dil as [number, number], groups: s.groups, bias: b };
      const got = s.t ? convTranspose2d(x, w, { ...opts, outputPadding: s.op as [number, number] }) : conv2d(x, w, opts);
      expect(got.shape).toEqual(want.dims);
      expectClose(got, Float64Array.from(want.data as Float32Array), null, 1e-5, 1e-4, 'vs onnxruntime');
    });
  }
});

describe('int8 conv2d (u8/s8 activations × per-channel s8 weights)', () => {
  // Reference over dequantized values (NCHW, OIHW): the f32 output must match it to float rounding; the int32 output
  // must equal Σ (xq − zx)·(wq − zw) exactly.
  function refInt8(xq: Int8Array | Uint8Array, zx: number, n: number, c: number, h: number, w: number, wq: Int8Array, m: number, k: number, s: number, pad: number) {
    const oh = Math.floor((h + 2 * pad - k) / s) + 1, ow = Math.floor((w + 2 * pad - k) / s) + 1;
    const acc = new Float64Array(n * m * oh * ow);
    for (let b = 0; b < n; b++)
      for (let o = 0; o < m; o++)
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            let sum = 0;
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = y * s + ky - pad, ix = x * s + kx - pad;
                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                for (let ci = 0; ci < c; ci++) sum += (xq[((b * c + ci) * h + iy) * w + ix] - zx) * wq[((o * c + ci) * k + ky) * k + kx];
              }
            acc[((b * m + o) * oh + y) * ow + x] = sum;
          }
    return { acc, oh, ow };
  }
  const cases = [
    { n: 1, c: 3, h: 9, w: 9, m: 8, k: 3, s: 2, pad: 1, u8: true },
    { n: 2, c: 17, h: 7, w: 6, m: 33, k: 3, s: 1, pad: 1, u8: true },
    { n: 1, c: 64, h: 5, w: 5, m: 65, k: 1, s: 1, pad: 0, u8: true },
    { n: 3, c: 5, h: 8, w: 8, m: 7, k: 5, s: 1, pad: 2, u8: false },
    { n: 1, c: 130, h: 4, w: 4, m: 16, k: 3, s: 1, pad: 1, u8: true },
  ];
  for (const isa of kernelIsas().concat(supportedIsas().filter((i) => /vnni|amx|dot/.test(i)))) {
    it(`${isa}: f32, int32 and requantized outputs, NCHW and NHWC, against the reference`, () => {
      setMaxIsa(isa as never);
      for (const cs of cases) {
        const xf = rand([cs.n, cs.c, cs.h, cs.w], { seed: cs.c + 1 });
        const wf = rand([cs.m, cs.c, cs.k, cs.k], { seed: cs.m + 2 });
        const qx = quantize(xf, { dtype: cs.u8 ? 'uint8' : 'int8', scheme: 'asymmetric' });
        const qw = quantize(wf, { axis: 0 });
        const zx = qx.zeroPoint[0], sx = qx.scale[0];
        const { acc, oh, ow } = refInt8(qx.data.data as Int8Array | Uint8Array, zx, cs.n, cs.c, cs.h, cs.w, qw.data.data as Int8Array, cs.m, cs.k, cs.s, cs.pad);
        const opts = { strides: cs.s, pads: cs.pad };
        const i32 = conv2d(qx, qw, { ...opts, output: 'int32' }) as Tensor;
        expect(i32.dtype).toBe('int32');
        expectSameArray(i32.data, acc);
        const bias = rand([cs.m], { seed: 5 });
        const plane = oh * ow;
        const want = new Float64Array(acc.length);
        for (let i = 0; i < acc.length; i++) {
          const o = Math.floor(i / plane) % cs.m;
          want[i] = Math.max(0, acc[i] * sx * qw.scale[o] + (bias.data as Float32Array)[o]);
        }
        const f = conv2d(qx, packConvWeights(qw), { ...opts, bias, activation: 'relu' }) as Tensor;
        expectClose(f, want, null, 1e-5, 1e-5, `${isa} f32 out ${JSON.stringify(cs)}`);
        // NHWC: same numbers, transposed.
        const xh = tensor(nchwToNhwc(Float32Array.from(qx.data.data as ArrayLike<number>), cs.n, cs.c, cs.h, cs.w), [cs.n, cs.h, cs.w, cs.c]);
        const qxh = new QuantizedTensor(tensor(cs.u8 ? Uint8Array.from(xh.data as Float32Array) : Int8Array.from(xh.data as Float32Array), xh.shape.slice()), sx, zx);
        const wh = tensor(Int8Array.from(toHw(Float32Array.from(qw.data.data as Int8Array), cs.m, cs.c, cs.k, cs.k)), [cs.k, cs.k, cs.c, cs.m]);
        const qwh = new QuantizedTensor(wh, qw.scale, qw.zeroPoint, 3, 'symmetric');
        const fh = conv2d(qxh, qwh, { ...opts, layout: 'nhwc', bias, activation: 'relu' }) as Tensor;
        expectClose(fh, nchwToNhwc64(want, cs.n, cs.m, oh, ow), null, 1e-5, 1e-5, `${isa} nhwc ${JSON.stringify(cs)}`);
        // Requantized uint8: q = clamp(round(y / 0.05) + 10).
        const rq = conv2d(qx, qw, { ...opts, bias, activation: 'relu', output: { dtype: 'uint8', scale: 0.05, zeroPoint: 10 } }) as QuantizedTensor;
        const rd = rq.data.data as Uint8Array;
        for (let i = 0; i < rd.length; i++) expect(Math.abs(rd[i] - Math.min(255, Math.round(want[i] / 0.05) + 10)), `rq ${i}`).toBeLessThanOrEqual(1);
      }
    });
  }
  // Every activation, with bias and a residual, f32 and requantized int8 outputs, both layouts, odd shapes.
  const epiCases = [
    { n: 1, c: 7, h: 9, w: 7, m: 17, k: 3, s: 2, pad: 1, u8: true },
    { n: 2, c: 33, h: 5, w: 6, m: 15, k: 1, s: 1, pad: 0, u8: false },
    { n: 1, c: 65, h: 6, w: 5, m: 63, k: 3, s: 1, pad: 1, u8: true },
  ];
  const epiActs: [ConvActivation, Conv2dOptions][] = [
    ['relu6', {}], ['clip', { clipMin: -0.5, clipMax: 0.75 }], ['leakyRelu', { alpha: 0.2 }], ['sigmoid', {}],
    ['hardSigmoid', { alpha: 0.3, beta: 0.4 }], ['hardSwish', {}], ['relu', {}], ['none', {}],
  ];
  for (const isa of kernelIsas().concat(supportedIsas().filter((i) => /vnni|amx|dot/.test(i)))) {
    it(`${isa}: every activation and a residual in the int8 epilogue (f32 and int8 outputs, NCHW and NHWC)`, () => {
      setMaxIsa(isa as never);
      for (const cs of epiCases) {
        const qx = quantize(rand([cs.n, cs.c, cs.h, cs.w], { seed: cs.c + 7 }), { dtype: cs.u8 ? 'uint8' : 'int8', scheme: 'asymmetric' });
        const qw = quantize(rand([cs.m, cs.c, cs.k, cs.k], { seed: cs.m + 8 }), { axis: 0 });
        const zx = qx.zeroPoint[0], sx = qx.scale[0];
        const { acc, oh, ow } = refInt8(qx.data.data as Int8Array | Uint8Array, zx, cs.n, cs.c, cs.h, cs.w, qw.data.data as Int8Array, cs.m, cs.k, cs.s, cs.pad);
        const bias = rand([cs.m], { seed: 9 });
        const res = rand([cs.n, cs.m, oh, ow], { seed: 10, low: -2, high: 2 });
        const plane = oh * ow;
        const packed = packConvWeights(qw, { bias });
        const xh = tensor(nchwToNhwc(Float32Array.from(qx.data.data as ArrayLike<number>), cs.n, cs.c, cs.h, cs.w), [cs.n, cs.h, cs.w, cs.c]);
        const qxh = new QuantizedTensor(tensor(cs.u8 ? Uint8Array.from(xh.data as Float32Array) : Int8Array.from(xh.data as Float32Array), xh.shape.slice()), sx, zx);
        const wh = tensor(Int8Array.from(toHw(Float32Array.from(qw.data.data as Int8Array), cs.m, cs.c, cs.k, cs.k)), [cs.k, cs.k, cs.c, cs.m]);
        const packedH = packConvWeights(new QuantizedTensor(wh, qw.scale, qw.zeroPoint, 3, 'symmetric'), { weightLayout: 'hwio', bias });
        const resH = tensor(nchwToNhwc(res.data as Float32Array, cs.n, cs.m, oh, ow), [cs.n, oh, ow, cs.m]);
        for (const [a, extra] of epiActs)
          for (const withRes of [false, true]) {
            const want = new Float64Array(acc.length);
            for (let i = 0; i < acc.length; i++) {
              const o = Math.floor(i / plane) % cs.m;
              const v = acc[i] * sx * qw.scale[o] + (bias.data as Float32Array)[o] + (withRes ? (res.data as Float32Array)[i] : 0);
              want[i] = act(v, a, extra);
            }
            const opts: Int8Conv2dOptions = { strides: cs.s, pads: cs.pad, activation: a, ...extra, residual: withRes ? res : null };
            const what = `${isa} ${a} res=${withRes} ${JSON.stringify(cs)}`;
            expectClose(conv2d(qx, packed, opts) as Tensor, want, null, 1e-5, 1e-5, `${what} nchw f32`);
            const fh = conv2d(qxh, packedH, { ...opts, layout: 'nhwc', residual: withRes ? resH : null }) as Tensor;
            expectClose(fh, nchwToNhwc64(want, cs.n, cs.m, oh, ow), null, 1e-5, 1e-5, `${what} nhwc f32`);
            // Requantized int8: q = clamp(round(y / 0.02) − 3, −128, 127), within one step of the reference.
            const rq = conv2d(qx, packed, { ...opts, output: { dtype: 'int8', scale: 0.02, zeroPoint: -3 } }) as QuantizedTensor;
            const rd = rq.data.data as Int8Array;
            for (let i = 0; i < rd.length; i++) {
              const q = Math.min(127, Math.max(-128, Math.round(want[i] / 0.02) - 3));
              if (Math.abs(rd[i] - q) > 1) throw new Error(`${what} int8 out [${i}] ${rd[i]} want ${q}`);
            }
          }
      }
    });
  }
  it('async equals sync; bad int8 input is refused', async () => {
    const qx = quantize(rand([1, 8, 6, 6], { seed: 1 }), { dtype: 'uint8' });
    const qw = quantize(rand([4, 8, 3, 3], { seed: 2 }), { axis: 0 });
    const a = (await conv2dAsync(qx, qw, { pads: 1 })) as Tensor;
    expect(Array.from(a.data)).toEqual(Array.from((conv2d(qx, qw, { pads: 1 }) as Tensor).data));
    const res = rand([1, 4, 6, 6], { seed: 3 });
    const sy = conv2d(qx, qw, { pads: 1, activation: 'hardSwish', residual: res, output: { dtype: 'uint8', scale: 0.03, zeroPoint: 7 } }) as QuantizedTensor;
    const ay = (await conv2dAsync(qx, qw, { pads: 1, activation: 'hardSwish', residual: res, output: { dtype: 'uint8', scale: 0.03, zeroPoint: 7 } })) as QuantizedTensor;
    expect(Array.from(ay.data.data)).toEqual(Array.from(sy.data.data));
    expect(() => conv2d(qx, qw, { activation: 'swish' as never })).toThrow(/activation must be one of/);
    expect(() => conv2d(qx, qw, { pads: 1, residual: rand([1, 4, 6, 5]) })).toThrow(/residual has shape \[1, 4, 6, 5\], needs the output's \[1, 4, 6, 6\]/);
    expect(() => conv2d(qx, qw, { pads: 1, residual: quantize(res) as never })).toThrow(/residual must be a float32 tensor/);
    expect(() => conv2d(qx, qw, { pads: 1, output: 'int32', residual: res })).toThrow(/need a float32 or requantized output/);
    const o = zeros([1, 4, 6, 6]);
    expect(() => conv2d(qx, qw, { pads: 1, residual: o, out: o })).toThrow(/out must not share memory with residual/);
    expect(() => conv2d(qx, qw, { groups: 2 })).toThrow(/groups/);
    expect(() => conv2d(qx, quantize(rand([4, 8, 3, 3]), { axis: 1 }))).toThrow(/axis 0/);
    expect(() => conv2d(qx, qw, { output: 'int32', activation: 'relu' })).toThrow(/need a float32 or requantized output/);
    expect(() => conv2d(qx, quantize(rand([4, 7, 3, 3]), { axis: 0 }))).toThrow(/x has 8 channels/);
    expect(cpuInfo().kernels['conv2d.s8']).toMatch(/^s8_gemm_/);
  });
});

describe('conv bench script (dry run)', () => {
  it('runs its contenders on tiny layers, checks ORT agreement and prints the table', async () => {
    const st = await import('../src/index.js');
    const { runConvBench, convTable, mobilenetSum } = await import('../bench/trials-conv.js');
    const { peak, results } = await runConvBench(st, { threads: 1, rounds: 1, quick: false, dry: true, json: null }, () => {});
    expect(results.length).toBe(3);
    for (const r of results) for (const k of ['simdtensor nhwc', 'simdtensor nchw', 'onnxruntime-node', 'tfjs-wasm']) expect(r.gflops[k]).toBeGreaterThan(0);
    for (const r of results.filter((x) => !x.trial.dw)) expect(r.gflops['simdtensor int8 nhwc']).toBeGreaterThan(0);
    const table = convTable(peak, results);
    expect(table).toContain('| conv/dry/k1 |');
    expect(table).toContain('| conv/dry/dw |');
    // The network sum weighs each layer by its count (the dry k1 layer twice).
    const sum = mobilenetSum(results);
    expect(sum).toBeNull(); // dry layers are not MobileNetV2 layers
    const fake = results.map((r) => ({ ...r, trial: { ...r.trial, from: 'mnv2 dry' } }));
    const s2 = mobilenetSum(fake)!;
    expect(s2.layers).toBe(4);
    const want = fake.reduce((a, r) => a + r.trial.count * r.ms['onnxruntime-node'], 0);
    expect(s2.ms['onnxruntime-node']).toBeCloseTo(want, 9);
    expect(s2.ortOverNhwc).toBeCloseTo(want / fake.reduce((a, r) => a + r.trial.count * r.ms['simdtensor nhwc'], 0), 9);
  });
});
