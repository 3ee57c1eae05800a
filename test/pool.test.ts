import { afterEach, describe, expect, it } from 'vitest';
import { avgPool2d, avgPool2dAsync, cpuInfo, getMaxIsa, globalAvgPool, globalAvgPoolAsync, globalMaxPool, globalMaxPoolAsync, maxPool2d, maxPool2dAsync, rand, setMaxIsa, tensor, zeros } from '../src/index.js';
import { supportedIsas, expectSameArray } from './helpers.js';
import { Geo, Img, ortRun, refPool, toNchw, worst } from './conv-ref.js';

const best = getMaxIsa();
afterEach(() => setMaxIsa(best));

const TOL = 2e-6;

function outSize(i: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const e = (k - 1) * d + 1;
  let o = Math.floor((i + p0 + p1 - e + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= i + p0) o--;
  return o;
}
interface Case {
  h: number;
  w: number;
  k: [number, number];
  s: [number, number];
  d: [number, number];
  p: [number, number, number, number];
  ceil: boolean;
}
const CASES: Case[] = [
  { h: 7, w: 9, k: [3, 3], s: [2, 2], d: [1, 1], p: [1, 1, 1, 1], ceil: false },
  { h: 7, w: 9, k: [3, 3], s: [2, 2], d: [1, 1], p: [1, 1, 1, 1], ceil: true },
  { h: 6, w: 5, k: [2, 2], s: [2, 2], d: [1, 1], p: [0, 0, 0, 0], ceil: true },
  { h: 9, w: 13, k: [3, 2], s: [1, 2], d: [2, 1], p: [0, 1, 2, 0], ceil: false },
  { h: 11, w: 7, k: [5, 5], s: [3, 2], d: [1, 1], p: [2, 1, 0, 2], ceil: true },
  { h: 1, w: 1, k: [1, 1], s: [1, 1], d: [1, 1], p: [0, 0, 0, 0], ceil: false },
];

describe('pooling against a JS reference', () => {
  for (const isa of supportedIsas())
    it(`${isa}: max/avg, odd channels, strides, dilations, pads, ceil mode, count_include_pad, both layouts`, () => {
      setMaxIsa(isa);
      expect(cpuInfo().kernels.maxPool2d).toMatch(/^f32_pool__/);
      let seed = 1;
      for (const c of [1, 3, 7, 15, 17, 33, 63, 65])
        for (const cs of CASES)
          for (const nhwc of [false, true]) {
            const n = 2;
            const x = rand(nhwc ? [n, cs.h, cs.w, c] : [n, c, cs.h, cs.w], { seed: seed++, low: -4, high: 4 });
            if (seed % 3 === 0) (x.data as Float32Array)[5 % x.size] = NaN;
            const oh = outSize(cs.h, cs.k[0], cs.s[0], cs.d[0], cs.p[0], cs.p[2], cs.ceil), ow = outSize(cs.w, cs.k[1], cs.s[1], cs.d[1], cs.p[1], cs.p[3], cs.ceil);
            const g: Geo = { kh: cs.k[0], kw: cs.k[1], sh: cs.s[0], sw: cs.s[1], dh: cs.d[0], dw: cs.d[1], pt: cs.p[0], pl: cs.p[1], pb: cs.p[2], pr: cs.p[3], oh, ow };
            const d: Img = { n, c, h: cs.h, w: cs.w, nhwc };
            const opts = { kernelSize: cs.k, strides: cs.s, dilations: cs.d, pads: cs.p, ceilMode: cs.ceil, layout: nhwc ? ('nhwc' as const) : ('nchw' as const) };
            const mx = maxPool2d(x, opts);
            expect(mx.shape).toEqual(nhwc ? [n, oh, ow, c] : [n, c, oh, ow]);
            let r = worst(mx.data, refPool(x.data, d, g, true, false));
            if (r.err > TOL) throw new Error(`max ${JSON.stringify(cs)} c=${c} nhwc=${nhwc} at ${r.i}`);
            for (const cip of [false, true]) {
              r = worst(avgPool2d(x, { ...opts, countIncludePad: cip }).data, refPool(x.data, d, g, false, cip));
              if (r.err > TOL) throw new Error(`avg cip=${cip} ${JSON.stringify(cs)} c=${c} nhwc=${nhwc} at ${r.i}`);
            }
          }
      for (const c of [1, 3, 17, 65])
        for (const [h, w] of [[1, 1], [7, 7], [3, 17]])
          for (const nhwc of [false, true]) {
            const x = rand(nhwc ? [2, h, w, c] : [2, c, h, w], { seed: seed++, low: -4, high: 4 });
            const d: Img = { n: 2, c, h, w, nhwc };
            const g: Geo = { kh: h, kw: w, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0, oh: 1, ow: 1 };
            const layout = nhwc ? ('nhwc' as const) : ('nchw' as const);
            const ga = globalAvgPool(x, { layout });
            expect(ga.shape).toEqual(nhwc ? [2, 1, 1, c] : [2, c, 1, 1]);
            expect(worst(ga.data, refPool(x.data, d, g, false, false)).err).toBeLessThan(1e-5);
            expect(worst(globalMaxPool(x, { layout }).data, refPool(x.data, d, g, true, false)).err).toBe(0);
          }
    });

  it('async forms match the sync ones', async () => {
    const x = rand([2, 56, 56, 24], { seed: 3 });
    const o = { kernelSize: 3, strides: 2, pads: 1, layout: 'nhwc' as const };
    expectSameArray((await maxPool2dAsync(x, o)).data, maxPool2d(x, o).data);
    expectSameArray((await avgPool2dAsync(x, { ...o, countIncludePad: true })).data, avgPool2d(x, { ...o, countIncludePad: true }).data);
    expect(Array.from((await globalAvgPoolAsync(x, { layout: 'nhwc' })).data)).toEqual(Array.from(globalAvgPool(x, { layout: 'nhwc' }).data));
    expect(Array.from((await globalMaxPoolAsync(x)).data)).toEqual(Array.from(globalMaxPool(x).data));
    await expect(maxPool2dAsync(x, {} as never)).rejects.toThrow(/kernelSize is required/);
  });

  it('bad input: TypeError/RangeError naming the argument', () => {
    const x = rand([1, 3, 5, 5]);
    expect(() => maxPool2d(x, undefined as never)).toThrow(/maxPool2d: opts must be an object/);
    expect(() => maxPool2d(x, { kernelSize: 0 })).toThrow(/kernelSize must be a positive integer/);
    expect(() => maxPool2d(x, { kernelSize: 3, countIncludePad: true })).toThrow(/countIncludePad applies to average/);
    expect(() => avgPool2d(x, { kernelSize: 3, ceilMode: 1 as never })).toThrow(/ceilMode must be a boolean/);
    expect(() => avgPool2d(x, { kernelSize: 2, pads: 2 })).toThrow(/without any input element/);
    expect(() => avgPool2d(x, { kernelSize: 7 })).toThrow(/window extent \(7\)/);
    expect(() => maxPool2d(tensor([1, 2], [2], 'float32'), { kernelSize: 1 })).toThrow(/x must be 4-D/);
    expect(() => maxPool2d(x, { kernelSize: 3, out: zeros([1, 3, 2, 2]) })).toThrow(/out has shape \[1, 3, 2, 2\], needs \[1, 3, 3, 3\]/);
    expect(() => globalAvgPool(rand([1, 3, 0, 4]))).toThrow(/empty image/);
    expect(() => globalMaxPool(x, { layout: 'hwc' as never })).toThrow(/layout must be/);
  });
});

describe('pooling against onnxruntime-node', () => {
  const cases = [
    { op: 'MaxPool', k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], ceil: 0, cip: 0, d: [1, 1] },
    { op: 'MaxPool', k: [3, 3], s: [2, 2], p: [0, 0, 0, 0], ceil: 1, cip: 0, d: [1, 1] },
    { op: 'MaxPool', k: [2, 3], s: [1, 2], p: [1, 0, 0, 1], ceil: 0, cip: 0, d: [2, 1] },
    { op: 'AveragePool', k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], ceil: 0, cip: 0, d: [1, 1] },
    { op: 'AveragePool', k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], ceil: 0, cip: 1, d: [1, 1] },
    { op: 'AveragePool', k: [3, 3], s: [2, 2], p: [1, 0, 1, 0], ceil: 1, cip: 0, d: [1, 1] },
    { op: 'AveragePool', k: [2, 2], s: [2, 2], p: [0, 0, 0, 0], ceil: 1, cip: 0, d: [1, 1] },
  ];
  for (const cs of cases)
    it(`${JSON.stringify(cs)}`, async () => {
      const dims = [1, 5, 10, 11];
      const x = rand(dims, { seed: 4, low: -3, high: 3 });
      const attrs: Record<string, number | { ints: number[] }> = { kernel_shape: { ints: cs.k }, strides: { ints: cs.s }, pads: { ints: cs.p }, ceil_mode: cs.ceil };
      if (cs.op === 'AveragePool') attrs.count_include_pad = cs.cip;
      if (cs.op === 'MaxPool') attrs.dilations = { ints: cs.d };
      const want = await ortRun({ op: cs.op, inputs: ['x'], outputs: ['y'], attrs }, x.data as Float32Array, dims);
      const opts = { kernelSize: cs.k as [number, number], strides: cs.s as [number, number], dilations: cs.d as [number, number], pads: cs.p as [number, number, number, number], ceilMode: !!cs.ceil };
      const y = cs.op === 'MaxPool' ? maxPool2d(x, opts) : avgPool2d(x, { ...opts, countIncludePad: !!cs.cip });
      expect(y.size).toBe(want.length);
      expect(worst(y.data, want).err).toBeLessThan(TOL);
      // The NHWC path gives the same numbers.
      const xh = rand([1, 10, 11, 5], { seed: 4, low: -3, high: 3 });
      const yh = cs.op === 'MaxPool' ? maxPool2d(xh, { ...opts, layout: 'nhwc' }) : avgPool2d(xh, { ...opts, countIncludePad: !!cs.cip, layout: 'nhwc' });
      const ref = cs.op === 'MaxPool' ? maxPool2d(tensor(toNchw(xh.data, 1, 10, 11, 5), [1, 5, 10, 11]), opts) : avgPool2d(tensor(toNchw(xh.data, 1, 10, 11, 5), [1, 5, 10, 11]), { ...opts, countIncludePad: !!cs.cip });
      expect(worst(toNchw(yh.data, 1, yh.shape[1], yh.shape[2], 5), ref.data).err).toBeLessThan(TOL);
    });
  for (const op of ['GlobalAveragePool', 'GlobalMaxPool'])
    it(op, async () => {
      const dims = [2, 9, 7, 5];
      const x = rand(dims, { seed: 8 });
      const want = await ortRun({ op, inputs: ['x'], outputs: ['y'] }, x.data as Float32Array, dims);
      const y = op === 'GlobalMaxPool' ? globalMaxPool(x) : globalAvgPool(x);
      expect(worst(y.data, want).err).toBeLessThan(1e-6);
    });
});
