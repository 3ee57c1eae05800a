import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index.js';
import { Tensor } from '../src/tensor.js';
import { convIntegerReference } from '../src/onnx/ops/conv-int8.js';
import { hasKeptCall } from '../src/onnx/ops/registry.js';
import { G, maxDiff, ortRun, randArr, T } from './onnx-build.js';
import { expectSameArray } from './helpers.js';

function u8(n: number, seed: number): Uint8Array {
  return Uint8Array.from(randArr(n, seed), (v) => Math.round((v + 1) * 127.5));
}
function s8(n: number, seed: number): Int8Array {
  return Int8Array.from(randArr(n, seed), (v) => Math.round(v * 127));
}
const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  x: number[];
  w: number[];
  attrs: Record<string, unknown>;
  wSigned: boolean;
  xz: number;
  wz: number;
}
const CASES: Case[] = [
  { name: 'groups 1, 3×3, pads 1, odd channels', x: [2, 5, 9, 11], w: [7, 5, 3, 3], attrs: { pads: [1, 1, 1, 1] }, wSigned: true, xz: 131, wz: 0 },
  { name: 'groups 1, stride 2, asymmetric pads, uint8 weights', x: [1, 17, 10, 13], w: [33, 17, 3, 3], attrs: { pads: [0, 1, 2, 1], strides: [2, 2] }, wSigned: false, xz: 7, wz: 119 },
  { name: 'groups 1, 1×1, dilation-free, K above the kernel tile', x: [1, 70, 6, 5], w: [65, 70, 1, 1], attrs: {}, wSigned: true, xz: 128, wz: -3 },
  { name: 'groups 1, SAME_UPPER, stride 2', x: [1, 3, 12, 9], w: [4, 3, 3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] }, wSigned: true, xz: 0, wz: 0 },
  { name: 'groups 1, 3×3 dilation 2, pads 2', x: [1, 9, 12, 9], w: [5, 9, 3, 3], attrs: { pads: [2, 2, 2, 2], dilations: [2, 2] }, wSigned: true, xz: 200, wz: 1 },
  { name: 'groups 3', x: [1, 6, 8, 7], w: [9, 2, 3, 3], attrs: { group: 3, pads: [1, 1, 1, 1] }, wSigned: true, xz: 100, wz: 2 },
  { name: 'depthwise 3×3 stride 2', x: [2, 8, 11, 10], w: [8, 1, 3, 3], attrs: { group: 8, pads: [1, 1, 1, 1], strides: [2, 2] }, wSigned: true, xz: 131, wz: 0 },
  { name: 'depthwise 5×5, uint8 weights', x: [1, 5, 9, 9], w: [5, 1, 5, 5], attrs: { group: 5, pads: [2, 2, 2, 2] }, wSigned: false, xz: 17, wz: 128 },
  { name: 'grouped, K past the float32-exact bound (integer loop)', x: [1, 1100, 3, 3], w: [4, 550, 1, 1], attrs: { group: 2 }, wSigned: true, xz: 0, wz: -128 },
  { name: '1-D conv', x: [2, 4, 17], w: [6, 4, 5], attrs: { pads: [2, 1], strides: [2] }, wSigned: true, xz: 3, wz: 0 },
];

function convIntegerModel(k: Case, wData: Int8Array | Uint8Array): Uint8Array {
  const g = new G(13);
  g.input('x', T.UINT8, k.x);
  g.input('xz', T.UINT8, []);
  const wt = k.wSigned ? T.INT8 : T.UINT8;
  const w = g.init('w', wt, k.w, wData);
  const wz = g.init('wz', wt, [], k.wSigned ? Int8Array.of(k.wz) : Uint8Array.of(k.wz));
  g.node('ConvInteger', ['x', w, 'xz', wz], k.attrs as never, ['y']);
  g.output('y', T.INT32);
  return g.bytes();
}

describe('ConvInteger matches onnxruntime-node bit for bit', () => {
  for (const k of CASES) {
    it(k.name, async () => {
      const wData = k.wSigned ? s8(prod(k.w), 2) : u8(prod(k.w), 2);
      const x = u8(prod(k.x), 1);
      const bytes = convIntegerModel(k, wData);
      const model = loadOnnx(bytes);
      expect(model.optimizations.find((o) => o.name === 'int8-prepack')!.rewrites).toBe(k.attrs.group ? 0 : 1);
      const feeds = { x: { data: x, dims: k.x }, xz: { data: Uint8Array.of(k.xz), dims: [] } };
      const got = model.run(feeds).y;
      const ref = await ortRun(bytes, { x: { type: 'uint8', ...feeds.x }, xz: { type: 'uint8', ...feeds.xz } });
      expect(got.dtype).toBe('int32');
      expect(got.shape).toEqual(ref.y.dims);
      expectSameArray(got.data as Int32Array, ref.y.data as Int32Array);
      // A second run (planned outputs) and runAsync give the same.
      expectSameArray(model.run(feeds).y.data as Int32Array, ref.y.data as Int32Array);
      expectSameArray((await model.runAsync(feeds)).y.data as Int32Array, ref.y.data as Int32Array);
    }, 30000);
  }

  it('int8 activations and per-channel weight zero points (beyond onnxruntime): equal to the integer reference', () => {
    for (const group of [1, 2]) {
      const g = new G(13);
      g.input('x', T.INT8, [1, 6, 7, 9]);
      g.input('xz', T.INT8, []);
      const wd = s8(10 * (6 / group) * 9, 5);
      const wz = Int8Array.from({ length: 10 }, (_, i) => i - 5);
      g.node('ConvInteger', ['x', g.init('w', T.INT8, [10, 6 / group, 3, 3], wd), 'xz', g.init('wz', T.INT8, [10], wz)], { pads: [1, 0, 1, 2], group }, ['y']);
      g.output('y', T.INT32);
      const x = s8(6 * 63, 6);
      const got = loadOnnx(g.bytes()).run({ x: { data: x, dims: [1, 6, 7, 9] }, xz: { data: Int8Array.of(-9), dims: [] } }).y;
      const ref = convIntegerReference(new Tensor(x, [1, 6, 7, 9], 'int8', x.length), -9, new Tensor(wd, [10, 6 / group, 3, 3], 'int8', wd.length), Int32Array.from(wz), group, [1, 1], [1, 1], [1, 0, 1, 2]);
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.data as Int32Array)).toEqual(Array.from(ref.data as Int32Array));
    }
  });

  it('errors: float x, a vector x_zero_point, W of the wrong rank', () => {
    const mk = (xt: number, xzDims: number[], wDims: number[]) => {
      const g = new G(13);
      g.input('x', xt, [1, 2, 5, 5]);
      g.input('xz', T.UINT8, xzDims);
      g.node('ConvInteger', ['x', g.init('w', T.INT8, wDims, s8(prod(wDims), 1)), 'xz'], {}, ['y']);
      g.output('y', T.INT32);
      return loadOnnx(g.bytes());
    };
    const x = { data: u8(50, 1), dims: [1, 2, 5, 5] };
    expect(() => mk(T.FLOAT, [], [3, 2, 3, 3]).run({ x: { data: new Float32Array(50), dims: [1, 2, 5, 5] }, xz: { data: Uint8Array.of(0), dims: [] } })).toThrow(/x must be int8 or uint8, got float32/);
    expect(() => mk(T.UINT8, [2], [3, 2, 3, 3]).run({ x, xz: { data: Uint8Array.of(0, 1), dims: [2] } })).toThrow(/x_zero_point must be a scalar/);
    expect(() => mk(T.UINT8, [], [3, 2, 3]).run({ x, xz: { data: Uint8Array.of(0), dims: [] } })).toThrow(/W must have the rank of x/);
  });
});

describe('QLinearConv matches onnxruntime-node within one quantization step', () => {
  for (const [name, x, w, attrs] of [
    ['groups 1, 3×3 pads 1 stride 2', [1, 19, 9, 12], [21, 19, 3, 3], { pads: [1, 1, 1, 1], strides: [2, 2] }],
    ['groups 1, 1×1', [2, 40, 5, 5], [17, 40, 1, 1], {}],
    ['depthwise 3×3', [1, 12, 8, 9], [12, 1, 3, 3], { group: 12, pads: [1, 1, 1, 1] }],
  ] as [string, number[], number[], Record<string, unknown>][]) {
    // onnxruntime's QLinearConv takes u8 → u8 and s8 → s8.
    for (const outSigned of [false, true]) {
      it(`${name}, ${outSigned ? 'int8 → int8' : 'uint8 → uint8'}`, async () => {
        const g = new G(13);
        g.input('x', outSigned ? T.INT8 : T.UINT8, x);
        const m = w[0];
        const ws = Array.from({ length: m }, (_, i) => 0.002 + i * 3e-4);
        const b = Int32Array.from(randArr(m, 9), (v) => Math.round(v * 3000));
        g.node('QLinearConv', [
          'x', g.scalar('xs', 0.02), outSigned ? g.init('xz', T.INT8, [], Int8Array.of(-8)) : g.init('xz', T.UINT8, [], Uint8Array.of(120)),
          g.init('w', T.INT8, w, s8(prod(w), 3)), g.f32('ws', [m], ws), g.init('wz', T.INT8, [m], new Int8Array(m)),
          g.scalar('ys', 0.05), g.init('yz', outSigned ? T.INT8 : T.UINT8, [], outSigned ? Int8Array.of(-3) : Uint8Array.of(128)),
          g.init('b', T.INT32, [m], b),
        ], attrs as never, ['y']);
        g.output('y', outSigned ? T.INT8 : T.UINT8);
        const bytes = g.bytes();
        const xd = outSigned ? s8(prod(x), 4) : u8(prod(x), 4);
        const got = loadOnnx(bytes).run({ x: { data: xd, dims: x } }).y;
        const ref = await ortRun(bytes, { x: { type: outSigned ? 'int8' : 'uint8', data: xd, dims: x } });
        expect(got.shape).toEqual(ref.y.dims);
        expect(got.dtype).toBe(outSigned ? 'int8' : 'uint8');
        const d = maxDiff(got.data as Float32Array, ref.y.data);
        expect(d.abs).toBeLessThanOrEqual(1);
      }, 30000);
    }
  }
});


describe('dynamic-int8-conv-fusion (quantize_dynamic form of Conv → one Int8Conv)', () => {
  /** DQL(x) → ConvInteger → Cast → Mul(x_scale · w_scale[M, 1, 1]) → Add(B[M, 1, 1]) [→ Relu], as quantizeModel writes it. */
  function layer(g: G, x: string, c: number, m: number, group: number, p: string, seed: number, relu: boolean, pads: number[]): string {
    const [xq, xs, xz] = [`${p}.xq`, `${p}.xs`, `${p}.xz`];
    g.node('DynamicQuantizeLinear', [x], {}, [xq, xs, xz]);
    const w = g.init(`${p}.w`, T.INT8, [m, c / group, 3, 3], s8(m * (c / group) * 9, seed));
    const wz = g.init(`${p}.wz`, T.INT8, [], Int8Array.of(0));
    const ws = g.f32(`${p}.ws`, [m, 1, 1], Array.from({ length: m }, (_, i) => 0.003 + i * 2e-4));
    const acc = g.node('ConvInteger', [xq, w, xz, wz], { group, pads, kernel_shape: [3, 3] });
    const f = g.node('Cast', [acc], { to: T.FLOAT });
    const y = g.node('Add', [g.node('Mul', [f, g.node('Mul', [xs, ws])]), g.f32(`${p}.b`, [m, 1, 1], randArr(m, seed + 1, 0.3))]);
    return relu ? g.node('Relu', [y]) : y;
  }
  it('groups 1 (int8 kernels, bias + relu fused) and depthwise (float path), NHWC chain; onnxruntime agrees', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, [1, 12, 13, 11]);
    const h = layer(g, 'x', 12, 20, 1, 'a', 1, true, [1, 1, 1, 1]);
    const d = layer(g, h, 20, 20, 20, 'b', 3, false, [1, 1, 1, 1]);
    const y = layer(g, d, 20, 9, 1, 'c', 5, false, [0, 1, 2, 1]);
    g.node('Identity', [y], {}, ['y']);
    g.output('y');
    const bytes = g.bytes();
    const model = loadOnnx(bytes);
    expect(model.nodeCounts.Int8Conv).toBe(3);
    expect(model.nodeCounts.ConvInteger ?? 0).toBe(0);
    expect(model.nodeCounts.Cast ?? 0).toBe(0);
    expect(model.optimizations.find((o) => o.name === 'dynamic-int8-conv-fusion')!.rewrites).toBe(3);
    // NHWC from the first quantized input (a uint8 transpose) to the output (one transpose back).
    expect(model.nodeCounts.LayoutTranspose).toBe(2);
    const x = randArr(12 * 13 * 11, 7, 2);
    const feeds = { x: { data: x, dims: [1, 12, 13, 11] } };
    const got = model.run(feeds).y;
    const ref = (await ortRun(bytes, { x: { type: 'float32', ...feeds.x } })).y;
    expect(got.shape).toEqual(ref.dims);
    // Same integer sums; the dequantizing epilogue multiplies in another order (and the depthwise layer dequantizes
    // before summing): float32 rounding only (a later layer's quantization could move by one step at a tie; not here).
    const dd = maxDiff(got.data as Float32Array, ref.data);
    expect(dd.abs).toBeLessThanOrEqual(1e-5 * dd.ref);
    const asy = await model.runAsync(feeds);
    expectSameArray(asy.y.data as Float32Array, got.data as Float32Array);
    // The pass switched off: the unfused ConvInteger chain (exact int32 sums) gives the same within float rounding.
    const plain = loadOnnx(bytes, { disable: ['dynamic-int8-conv-fusion'] });
    expect(plain.nodeCounts.ConvInteger).toBe(3);
    const dp = maxDiff(plain.run(feeds).y.data as Float32Array, got.data);
    expect(dp.abs).toBeLessThanOrEqual(1e-5 * dp.ref);
  });
});

describe('dynamic-int8-conv-fusion absorbs the quantization, affines and activations around a groups-1 conv', () => {
  /**
   * x → DQL → ConvInteger(3×3, pads 1) → Cast → Mul(scale) → Add(bias) → Mul(a)/Add(b) (PP-LCNetV3's learnable
   * affine) → HardSwish → Mul(a2)/Add(b2) → DQL → ConvInteger(1×1, unpadded) → … → Add(bias) → Clip(0, 6).
   */
  function model(a: number, a2: number): Uint8Array {
    const g = new G(14);
    g.input('x', T.FLOAT, [1, 6, 9, 10]);
    const conv = (x: string, p: string, c: number, m: number, k: number, pads: number[], seed: number) => {
      const [xq, xs, xz] = [`${p}.xq`, `${p}.xs`, `${p}.xz`];
      g.node('DynamicQuantizeLinear', [x], {}, [xq, xs, xz]);
      const w = g.init(`${p}.w`, T.INT8, [m, c, k, k], s8(m * c * k * k, seed));
      const wz = g.init(`${p}.wz`, T.INT8, [], Int8Array.of(0));
      const ws = g.f32(`${p}.ws`, [m, 1, 1], Array.from({ length: m }, (_, i) => 0.004 + i * 3e-4));
      const acc = g.node('ConvInteger', [xq, w, xz, wz], { pads, kernel_shape: [k, k] });
      const f = g.node('Cast', [acc], { to: T.FLOAT });
      return g.node('Add', [g.node('Mul', [f, g.node('Mul', [xs, ws])]), g.f32(`${p}.b`, [m, 1, 1], randArr(m, seed + 1, 0.3))]);
    };
    const y1 = conv('x', 'a', 6, 16, 3, [1, 1, 1, 1], 1);
    const l1 = g.node('Add', [g.node('Mul', [y1, g.f32('a.la', [], [a])]), g.f32('a.lb', [], [0.25])]);
    const h = g.node('HardSwish', [l1]);
    const l2 = g.node('Add', [g.node('Mul', [h, g.f32('a.la2', [], [a2])]), g.f32('a.lb2', [], [-0.3])]);
    const y2 = conv(l2, 'b', 16, 7, 1, [0, 0, 0, 0], 3);
    g.node('Clip', [y2, g.f32('lo', [], [0]), g.f32('hi', [], [6])], {}, ['y']);
    g.output('y');
    return g.bytes();
  }
  it('one Int8Conv per conv, no DynamicQuantizeLinear / affine / HardSwish / Clip left; close to onnxruntime and to the unfused chain', async () => {
    const bytes = model(1.3, 0.8);
    const fused = loadOnnx(bytes);
    expect(fused.nodeCounts.Int8Conv).toBe(2);
    for (const op of ['DynamicQuantizeLinear', 'ScalarAffine', 'HardSwish', 'Clip', 'Mul', 'Add']) expect(fused.nodeCounts[op] ?? 0).toBe(0);
    const plain = loadOnnx(bytes, { disable: ['dynamic-int8-conv-fusion'] });
    expect(plain.nodeCounts.ConvInteger).toBe(2);
    const x = randArr(6 * 9 * 10, 11, 2);
    const feeds = { x: { data: x, dims: [1, 6, 9, 10] } };
    const got = fused.run(feeds).y.data as Float32Array;
    const ref = (await ortRun(bytes, { x: { type: 'float32', data: x, dims: [1, 6, 9, 10] } })).y.data as Float32Array;
    const unfused = plain.run(feeds).y.data as Float32Array;
    // The unfused chain is onnxruntime's arithmetic: float rounding apart.
    const dp = maxDiff(unfused, ref);
    expect(dp.abs).toBeLessThanOrEqual(1e-5 * dp.ref);
    // The fused node quantizes h instead of a2·h + b2 (the affine moved into the 1×1 conv's weights): another
    // quantization grid of the same width, so within a few of its steps, not bit-identical.
    const d = maxDiff(got, ref);
    expect(d.abs).toBeLessThan(0.03 * d.ref);
    expect(Array.from((await fused.runAsync(feeds)).y.data as Float32Array)).toEqual(Array.from(got));
  });
  it('a negative affine factor is left to its own node (the int8 epilogue scales are positive)', () => {
    const m = loadOnnx(model(-1.3, -0.8));
    expect(m.nodeCounts.Int8Conv).toBe(2);
    expect(m.nodeCounts.ScalarAffine).toBe(2);
    expect(m.nodeCounts.DynamicQuantizeLinear ?? 0).toBe(0);
  });
});

describe('int8 conv2d pixelParams (per-pixel activation scale and zero point)', () => {
  /** Scalar reference: y[p][o] = xs[p]·ws[o]·Σ_c (x[p][c] − xz[p])·w[o][c] + b[o], then a·hardSwish(y) + sh. */
  function reference(x: Uint8Array | Int8Array, P: number, C: number, xs: Float32Array, xz: Int32Array, w: Int8Array, ws: Float32Array, M: number, b: Float32Array, a: number, sh: number, nchw: boolean, N: number) {
    const y = new Float32Array(P * M), plane = P / N;
    for (let p = 0; p < P; p++) {
      const bn = Math.floor(p / plane), pix = p % plane;
      for (let o = 0; o < M; o++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += (x[nchw ? (bn * C + c) * plane + pix : p * C + c] - xz[p]) * w[o * C + c];
        const v = acc * xs[p] * ws[o] + b[o];
        y[nchw ? (bn * M + o) * plane + pix : p * M + o] = a * v * Math.min(1, Math.max(0, v / 6 + 0.5)) + sh;
      }
    }
    return y;
  }
  const cases = [
    { n: 2, h: 3, w: 5, c: 7, m: 9, layout: 'nhwc' as const, signed: false },
    { n: 1, h: 4, w: 3, c: 17, m: 33, layout: 'nchw' as const, signed: true },
    { n: 1, h: 13, w: 11, c: 3, m: 70, layout: 'nhwc' as const, signed: true },
  ];
  for (const t of cases)
    it(`${t.layout} ${t.signed ? 's8' : 'u8'} x [${t.n}, ${t.h}, ${t.w}] c${t.c} → m${t.m} matches the scalar reference`, async () => {
      const { conv2d } = await import('../src/conv/conv2d.js');
      const { QuantizedTensor } = await import('../src/int8/index.js');
      const P = t.n * t.h * t.w;
      const x = t.signed ? s8(P * t.c, 31) : u8(P * t.c, 31);
      const w = s8(t.m * t.c, 32);
      const ws = Float32Array.from(randArr(t.m, 33), (v) => 0.002 + 0.001 * Math.abs(v));
      const b = Float32Array.from(randArr(t.m, 34));
      const xs = Float32Array.from(randArr(P, 35), (v) => 0.003 + 0.01 * Math.abs(v));
      const xz = Int32Array.from(randArr(P, 36), (v) => Math.round(v * 100) + (t.signed ? 0 : 128));
      const xShape = t.layout === 'nhwc' ? [t.n, t.h, t.w, t.c] : [t.n, t.c, t.h, t.w];
      const qx = new QuantizedTensor(new Tensor(x, xShape, t.signed ? 'int8' : 'uint8', x.length), 1, 0, null);
      const qw = new QuantizedTensor(new Tensor(w, [t.m, t.c, 1, 1], 'int8', w.length), ws, new Int32Array(t.m), 0, 'asymmetric');
      const y = conv2d(qx, qw, { layout: t.layout, weightLayout: 'oihw', bias: new Tensor(b, [t.m], 'float32', t.m), activation: { hardSwish: { scale: 0.75, shift: -0.125 } }, pixelParams: { scale: xs, zeroPoint: xz } }) as Tensor;
      const want = reference(x, P, t.c, xs, xz, w, ws, t.m, b, 0.75, -0.125, t.layout === 'nchw', t.n);
      const d = maxDiff(y.data as Float32Array, want);
      expect(d.abs).toBeLessThanOrEqual(1e-5 * Math.max(1, d.ref));
    });
  it('bad pixelParams are named: not pointwise, wrong lengths, wrong types, out-of-range values', async () => {
    const { conv2d } = await import('../src/conv/conv2d.js');
    const { QuantizedTensor } = await import('../src/int8/index.js');
    const qx = new QuantizedTensor(new Tensor(u8(2 * 4 * 4 * 3, 1), [2, 4, 4, 3], 'uint8', 96), 1, 0, null);
    const w1 = new QuantizedTensor(new Tensor(s8(5 * 3, 2), [5, 3, 1, 1], 'int8', 15), 0.01, 0, null);
    const w3 = new QuantizedTensor(new Tensor(s8(5 * 27, 2), [5, 3, 3, 3], 'int8', 135), 0.01, 0, null);
    const pp = { scale: new Float32Array(32).fill(0.01), zeroPoint: new Int32Array(32).fill(3) };
    expect(() => conv2d(qx, w3, { layout: 'nhwc', weightLayout: 'oihw', pads: 1, pixelParams: pp })).toThrow(/pointwise/);
    expect(() => conv2d(qx, w1, { layout: 'nhwc', weightLayout: 'oihw', strides: 2, pixelParams: pp })).toThrow(/pointwise/);
    expect(() => conv2d(qx, w1, { layout: 'nhwc', weightLayout: 'oihw', pixelParams: { scale: pp.scale.subarray(1), zeroPoint: pp.zeroPoint } })).toThrow(RangeError);
    expect(() => conv2d(qx, w1, { layout: 'nhwc', weightLayout: 'oihw', pixelParams: { scale: [0.1], zeroPoint: pp.zeroPoint } as never })).toThrow(TypeError);
    expect(() => conv2d(qx, w1, { layout: 'nhwc', weightLayout: 'oihw', pixelParams: { scale: pp.scale, zeroPoint: Int32Array.from(pp.zeroPoint, (_, i) => (i === 7 ? 256 : 3)) } })).toThrow(/rowZero\[7\]/);
    expect(() => conv2d(qx, w1, { layout: 'nhwc', weightLayout: 'oihw', pixelParams: { scale: Float32Array.from(pp.scale, (v, i) => (i === 5 ? 0 : v)), zeroPoint: pp.zeroPoint } })).toThrow(/rowScale\[5\]/);
    // Valid ones run.
    expect((conv2d(qx, w1, { layout: 'nhwc', weightLayout: 'oihw', pixelParams: pp }) as Tensor).shape).toEqual([2, 4, 4, 5]);
  });
});

describe('int8-conv-float-route (a dynamic Int8Conv runs float32 where int8 loses: K < 32 or ≤ 64 pixels per image)', () => {
  // x[1, 6, h, w] → 3×3 conv to 16 (K = 54) → Relu → 1×1 conv to 7 (K = 16), as quantize_dynamic writes them, and the
  // same graph in float32 with the dequantized weights (w − wz)·w_scale: the float32 route's numerics.
  const wa = s8(16 * 6 * 9, 21), wb = s8(7 * 16, 23);
  const sa = Array.from({ length: 16 }, (_, i) => 0.004 + i * 3e-4), sb = Array.from({ length: 7 }, (_, i) => 0.006 + i * 5e-4);
  const ba = randArr(16, 22, 0.3), bb = randArr(7, 24, 0.3);
  const specs = [
    { p: 'a', w: wa, s: sa, b: ba, m: 16, c: 6, k: 3, pads: [1, 1, 1, 1], wz: 3 },
    { p: 'b', w: wb, s: sb, b: bb, m: 7, c: 16, k: 1, pads: [0, 0, 0, 0], wz: -2 },
  ];
  function build(int8: boolean): Uint8Array {
    const g = new G(13);
    g.input('x', T.FLOAT, [1, 6, 'h', 'w']);
    let x = 'x';
    for (const t of specs) {
      let y: string;
      if (int8) {
        const [xq, xs, xz] = [`${t.p}.xq`, `${t.p}.xs`, `${t.p}.xz`];
        g.node('DynamicQuantizeLinear', [x], {}, [xq, xs, xz]);
        const acc = g.node('ConvInteger', [xq, g.init(`${t.p}.w`, T.INT8, [t.m, t.c, t.k, t.k], t.w), xz, g.init(`${t.p}.wz`, T.INT8, [], Int8Array.of(t.wz))], { pads: t.pads, kernel_shape: [t.k, t.k] });
        const f = g.node('Cast', [acc], { to: T.FLOAT });
        y = g.node('Add', [g.node('Mul', [f, g.node('Mul', [xs, g.f32(`${t.p}.ws`, [t.m, 1, 1], t.s)])]), g.f32(`${t.p}.b`, [t.m, 1, 1], t.b)]);
      } else {
        const per = t.c * t.k * t.k, wf = Float32Array.from(t.w, (v, i) => (v - t.wz) * Math.fround(t.s[Math.floor(i / per)]));
        y = g.node('Conv', [x, g.f32(`${t.p}.w`, [t.m, t.c, t.k, t.k], wf), g.f32(`${t.p}.b`, [t.m], t.b)], { pads: t.pads, kernel_shape: [t.k, t.k] });
      }
      x = t.p === 'a' ? g.node('Relu', [y]) : y;
    }
    g.node('Identity', [x], {}, ['y']);
    g.output('y');
    return g.bytes();
  }
  const q = build(true), f = build(false);
  const feeds = (h: number, w: number) => ({ x: { data: randArr(6 * h * w, h * 100 + w, 2), dims: [1, 6, h, w] } });

  it('few pixels: both convs float32 (the float model within rounding); many: the K = 54 conv back on int8', async () => {
    const model = loadOnnx(q), ref = loadOnnx(f), off = loadOnnx(q, { disable: ['int8-conv-float-route'] });
    expect(model.nodeCounts.Int8Conv).toBe(2);
    expect(model.optimizations.find((o) => o.name === 'int8-conv-float-route')!.rewrites).toBe(2);
    for (const [h, w, float] of [[7, 9, true], [12, 13, false], [8, 8, true], [5, 13, false]] as const) {
      const fd = feeds(h, w);
      const got = model.run(fd).y.data as Float32Array;
      const want = ref.run(fd).y.data as Float32Array;
      const all8 = off.run(fd).y.data as Float32Array;
      const d = maxDiff(got, want);
      if (float) expect(d.abs, `${h}×${w}`).toBeLessThanOrEqual(1e-5 * d.ref);
      else {
        // The 3×3 conv's input quantized to 8 bits: off the float model by more than rounding, within a few steps.
        expect(d.abs, `${h}×${w}`).toBeGreaterThan(1e-4 * d.ref);
        expect(d.abs, `${h}×${w}`).toBeLessThan(0.03 * d.ref);
      }
      // With the pass off every conv quantizes its input: never the float model's values.
      const d8 = maxDiff(all8, want);
      expect(d8.abs, `${h}×${w}`).toBeGreaterThan(1e-4 * d8.ref);
      expectSameArray((await model.runAsync(fd)).y.data as Float32Array, got);
    }
  });

  it('a planned run keeps the float32 route\'s call on the Int8Conv node itself, and drops it when the shape moves to int8', () => {
    const model = loadOnnx(q);
    const convA = model.runner.graph.nodes.find((n) => n.op === 'Int8Conv' && n.outputs[0] !== 'y')!;
    expect(convA).toBeDefined();
    const small = feeds(7, 9), big = feeds(12, 13);
    const want = model.run(small).y.data as Float32Array;
    model.run(small);
    // Without it the runner took Int8Conv's delegating path (route decision, FusedConv's checks) on every run.
    expect(hasKeptCall(convA), 'kept after planned runs on the float32 route').toBe(true);
    for (let i = 0; i < 3; i++) expectSameArray(model.run(small).y.data as Float32Array, want);
    // 12×13 (156 pixels, K = 54): conv a runs int8, not the kept float32 call.
    const ref8 = loadOnnx(q).run(big).y.data as Float32Array;
    expectSameArray(model.run(big).y.data as Float32Array, ref8);
    expectSameArray(model.run(small).y.data as Float32Array, want);
  });
});
