import { afterEach, describe, expect, it } from 'vitest';
import { cpuInfo, depthwiseConv2d, depthwiseConv2dAsync, getMaxIsa, rand, setMaxIsa, setNumThreads, getNumThreads, tensor, zeros } from '../src/index.js';
import { supportedIsas, unsupportedIsas, expectSameArray } from './helpers.js';
import { ACTS, Geo, HARD_SWISH_AFFINE, Img, ortRun, refDwconv, worst } from './conv-ref.js';
import { OnnxType } from '../bench/onnx.js';

const best = getMaxIsa();
const threads0 = getNumThreads();
afterEach(() => {
  setMaxIsa(best);
  setNumThreads(threads0);
});

// Float sums of up to 25 products in [-1, 1] against double; polynomial exp in sigmoid.
const TOL = 3e-5;

function geo(h: number, w: number, kh: number, kw: number, s: number[], dl: number[], p: number[]): Geo {
  const [pt, pl, pb, pr] = p;
  const oh = Math.floor((h + pt + pb - ((kh - 1) * dl[0] + 1)) / s[0]) + 1;
  const ow = Math.floor((w + pl + pr - ((kw - 1) * dl[1] + 1)) / s[1]) + 1;
  return { kh, kw, sh: s[0], sw: s[1], dh: dl[0], dw: dl[1], pt, pl, pb, pr, oh, ow };
}

interface Case {
  c: number;
  h: number;
  w: number;
  k: number[];
  s: number[];
  d: number[];
  p: number[];
  mult: number;
  act: string;
}
const CASES: Case[] = [];
{
  const chans = [1, 3, 7, 15, 17, 33, 63, 65];
  const shapes: Omit<Case, 'c' | 'act' | 'mult'>[] = [
    { h: 7, w: 9, k: [3, 3], s: [1, 1], d: [1, 1], p: [1, 1, 1, 1] },
    { h: 9, w: 7, k: [3, 3], s: [2, 2], d: [1, 1], p: [0, 0, 1, 1] },
    { h: 11, w: 11, k: [5, 5], s: [2, 2], d: [1, 1], p: [2, 2, 2, 2] },
    { h: 5, w: 13, k: [3, 3], s: [1, 2], d: [2, 1], p: [2, 0, 1, 2] },
    { h: 1, w: 1, k: [1, 1], s: [1, 1], d: [1, 1], p: [0, 0, 0, 0] },
    { h: 8, w: 6, k: [3, 2], s: [3, 1], d: [1, 2], p: [1, 1, 0, 0] },
    // A plane of 1024+ pixels at stride 1: NCHW runs its own kernel (smaller or strided planes go through NHWC).
    { h: 33, w: 35, k: [3, 3], s: [1, 1], d: [1, 1], p: [1, 0, 1, 2] },
  ];
  const acts = Object.keys(ACTS);
  let i = 0;
  for (const c of chans) for (const sh of shapes) CASES.push({ ...sh, c, act: acts[i++ % acts.length], mult: c <= 3 ? 1 + (i % 3) : 1 });
}

function runCase(cs: Case, nhwc: boolean, hwcm: boolean, seed: number) {
  const n = 2;
  const d: Img = { n, c: cs.c, h: cs.h, w: cs.w, nhwc };
  const x = rand(nhwc ? [n, cs.h, cs.w, cs.c] : [n, cs.c, cs.h, cs.w], { seed, low: -1, high: 1 });
  const oc = cs.c * cs.mult;
  const w = rand(hwcm ? [cs.k[0], cs.k[1], cs.c, cs.mult] : [oc, 1, cs.k[0], cs.k[1]], { seed: seed + 1, low: -1, high: 1 });
  const bias = rand([oc], { seed: seed + 2 });
  const g = geo(cs.h, cs.w, cs.k[0], cs.k[1], cs.s, cs.d, cs.p);
  const y = depthwiseConv2d(x, w, { layout: nhwc ? 'nhwc' : 'nchw', weightLayout: hwcm ? 'hwcm' : 'oihw', strides: cs.s as [number, number], dilations: cs.d as [number, number], pads: cs.p as [number, number, number, number], bias, activation: cs.act === 'hardSwishAffine' ? HARD_SWISH_AFFINE : (cs.act as 'relu') });
  expect(y.shape).toEqual(nhwc ? [n, g.oh, g.ow, oc] : [n, oc, g.oh, g.ow]);
  const want = refDwconv(x.data, d, w.data, hwcm, cs.mult, g, bias.data, ACTS[cs.act]);
  const r = worst(y.data, want);
  if (r.err > TOL) throw new Error(`${JSON.stringify(cs)} nhwc=${nhwc} hwcm=${hwcm}: [${r.i}] got ${y.data[r.i]} want ${want[r.i]}`);
}

describe('depthwiseConv2d against a JS reference', () => {
  for (const isa of supportedIsas())
    it(`${isa}: odd channels, strides, dilations, pads, multipliers, activations, both layouts`, () => {
      setMaxIsa(isa);
      expect(cpuInfo().kernels.depthwiseConv2d).toMatch(/^f32_dwconv__/);
      let seed = 1;
      for (const cs of CASES) {
        runCase(cs, true, true, seed++);
        runCase(cs, false, false, seed++);
        if (cs.c <= 7) {
          runCase(cs, true, false, seed++);
          runCase(cs, false, true, seed++);
        }
      }
    });
  // 3×3 stride (1,2) rows wider than L1 run in column strips (PaddleOCR rec's 12×160×128 layer, and odd channels).
  for (const isa of supportedIsas())
    it(`${isa}: 3×3 stride (1,2) wide rows (column strips)`, () => {
      setMaxIsa(isa);
      let seed = 500;
      for (const [c, h, w, p] of [[128, 4, 161, [1, 1, 1, 1]], [37, 5, 97, [0, 1, 1, 0]], [65, 3, 160, [1, 0, 0, 1]]] as const)
        runCase({ c, h, w, k: [3, 3], s: [1, 2], d: [1, 1], p: [...p], mult: 1, act: 'hardSwish' }, true, true, seed++);
    });
  it.skipIf(unsupportedIsas().length === 0)(`ISAs this CPU lacks are skipped: ${unsupportedIsas().join(', ')}`, () => {
    for (const isa of unsupportedIsas()) expect(() => setMaxIsa(isa as never)).toThrow(RangeError);
  });

  it('same pads (TF.js), relu6 and clip, out tensor, thread counts agree bit for bit', () => {
    const x = rand([1, 14, 14, 96], { seed: 5, low: -2, high: 2 });
    const w = rand([3, 3, 96, 1], { seed: 6 });
    const ys: Float32Array[] = [];
    for (const t of [1, 2, 3]) {
      setNumThreads(t);
      const out = zeros([1, 7, 7, 96]);
      const y = depthwiseConv2d(x, w, { layout: 'nhwc', strides: 2, pads: 'same', activation: 'relu6', out });
      expect(y).toBe(out);
      ys.push(y.data as Float32Array);
    }
    expect(Array.from(ys[1])).toEqual(Array.from(ys[0]));
    expect(Array.from(ys[2])).toEqual(Array.from(ys[0]));
    // 'same' at stride 2 over 14: total pad 1, all at the end (SAME_UPPER).
    const want = refDwconv(x.data, { n: 1, c: 96, h: 14, w: 14, nhwc: true }, w.data, true, 1, geo(14, 14, 3, 3, [2, 2], [1, 1], [0, 0, 1, 1]), null, ACTS.relu6);
    expect(worst(ys[0], want).err).toBeLessThan(TOL);
    const clip = depthwiseConv2d(x, w, { layout: 'nhwc', pads: 1, activation: { clip: { min: -0.5, max: 0.25 } } }).data;
    expect(Math.min(...clip)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...clip)).toBeLessThanOrEqual(0.25);
  });

  it('ops above the split threshold (NHWC row bands, NCHW planes) agree bit for bit across thread counts', () => {
    // 1×96×64×64 3×3: 3.5 M multiply-adds, several pool tasks at 2 and 3 threads; the small test above stays serial.
    for (const layout of ['nhwc', 'nchw'] as const) {
      const x = rand(layout === 'nhwc' ? [1, 64, 64, 96] : [1, 96, 64, 64], { seed: 11, low: -2, high: 2 });
      const w = rand(layout === 'nhwc' ? [3, 3, 96, 1] : [96, 1, 3, 3], { seed: 12 });
      const ys: number[][] = [];
      for (const t of [1, 2, 3]) {
        setNumThreads(t);
        ys.push(Array.from(depthwiseConv2d(x, w, { layout, pads: 1, activation: 'hardSwish' }).data));
      }
      expectSameArray(ys[1], ys[0]);
      expectSameArray(ys[2], ys[0]);
    }
  });

  it('async matches sync and keeps inputs alive', async () => {
    const x = rand([2, 32, 28, 28], { seed: 9 });
    const w = rand([32, 1, 3, 3], { seed: 10 });
    const sync = depthwiseConv2d(x, w, { pads: 1, activation: 'hardSwish' });
    const y = await depthwiseConv2dAsync(x, w, { pads: 1, activation: 'hardSwish' });
    expectSameArray(y.data, sync.data);
    await expect(depthwiseConv2dAsync(x, w, { pads: -1 as never })).rejects.toThrow(TypeError);
    const ac = new AbortController();
    ac.abort();
    await expect(depthwiseConv2dAsync(x, w, { signal: ac.signal })).rejects.toThrow(/aborted/);
  });

  it('bad input: TypeError/RangeError naming the argument', () => {
    const x = rand([1, 4, 5, 5]);
    const w = rand([4, 1, 3, 3]);
    expect(() => depthwiseConv2d(x.data as never, w)).toThrow(/depthwiseConv2d: x must be a Tensor/);
    expect(() => depthwiseConv2d(tensor([1, 2, 3, 4], [1, 1, 2, 2], 'int32'), w)).toThrow(TypeError);
    expect(() => depthwiseConv2d(rand([4, 5, 5]), w)).toThrow(/x must be 4-D/);
    expect(() => depthwiseConv2d(x, rand([4, 2, 3, 3]))).toThrow(/w shape \[4, 2, 3, 3\]/);
    expect(() => depthwiseConv2d(x, rand([6, 1, 3, 3]))).toThrow(RangeError);
    expect(() => depthwiseConv2d(x, rand([3, 3, 5, 1]), { weightLayout: 'hwcm' })).toThrow(/C = 4/);
    expect(() => depthwiseConv2d(x, w, { weightLayout: 'xyz' as never })).toThrow(/weightLayout/);
    expect(() => depthwiseConv2d(x, w, { layout: 'NCHW' as never })).toThrow(/layout must be/);
    expect(() => depthwiseConv2d(x, w, { strides: 0 })).toThrow(/strides/);
    expect(() => depthwiseConv2d(x, w, { dilations: [1, 1.5] as never })).toThrow(/dilations/);
    expect(() => depthwiseConv2d(x, w, { pads: [1, 2, 3] as never })).toThrow(/pads must be/);
    expect(() => depthwiseConv2d(x, rand([4, 1, 7, 7]))).toThrow(/window extent \(7\) is larger/);
    expect(() => depthwiseConv2d(x, w, { bias: rand([5]) })).toThrow(/bias has 5 elements, needs 4/);
    expect(() => depthwiseConv2d(x, w, { activation: 'swish' as never })).toThrow(/activation must be/);
    expect(() => depthwiseConv2d(x, w, { activation: { clip: { min: 2, max: 1 } } })).toThrow(/clip.min/);
    expect(() => depthwiseConv2d(x, w, { out: zeros([1, 4, 4, 4]) })).toThrow(/out has shape \[1, 4, 4, 4\], needs \[1, 4, 3, 3\]/);
    expect(() => depthwiseConv2d(x, w, { pads: 1, out: x })).toThrow(/out must not overlap x/);
  });
});

describe('depthwiseConv2d against onnxruntime-node Conv(group = C)', () => {
  const shapes = [
    { c: 32, h: 17, w: 15, k: 3, s: 1, d: 1, p: [1, 1, 1, 1], mult: 1 },
    { c: 24, h: 16, w: 16, k: 3, s: 2, d: 1, p: [0, 0, 1, 1], mult: 1 },
    { c: 7, h: 13, w: 9, k: 5, s: 2, d: 1, p: [2, 1, 2, 1], mult: 2 },
    { c: 5, h: 12, w: 12, k: 3, s: 1, d: 2, p: [2, 2, 2, 2], mult: 1 },
  ];
  for (const sh of shapes)
    it(`${JSON.stringify(sh)}`, async () => {
      const oc = sh.c * sh.mult;
      const x = rand([1, sh.c, sh.h, sh.w], { seed: sh.c });
      const w = rand([oc, 1, sh.k, sh.k], { seed: sh.c + 1 });
      const b = rand([oc], { seed: sh.c + 2 });
      const want = await ortRun(
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: sh.c, kernel_shape: { ints: [sh.k, sh.k] }, strides: { ints: [sh.s, sh.s] }, dilations: { ints: [sh.d, sh.d] }, pads: { ints: sh.p } } },
        x.data as Float32Array,
        [1, sh.c, sh.h, sh.w],
        [
          { name: 'w', type: OnnxType.FLOAT, dims: [oc, 1, sh.k, sh.k], data: w.data },
          { name: 'b', type: OnnxType.FLOAT, dims: [oc], data: b.data },
        ],
      );
      const y = depthwiseConv2d(x, w, { strides: sh.s, dilations: sh.d, pads: sh.p as [number, number, number, number], bias: b });
      expect(worst(y.data, want).err).toBeLessThan(TOL);
    });
});

