// Contracts every entry point keeps (issue #12): an `out` overlapping an input is refused (exact in place stays
// allowed where the op computes element i from element i only), null/undefined options mean "no options", a
// tensor whose shape array was edited after creation is refused, and a sync op never writes memory an async op in
// flight still owns (ERR_SIMDTENSOR_BUSY).
import { describe, expect, it } from 'vitest';
import {
  add, cast, dequantize, gelu, geluBackward, layerNorm, linear, linearAsync, logSoftmax, matmul, matmulAsync, mul,
  packWeights, quantize, rand, relu, reluBackward, softmax, sub, Tensor, tensor, toSparse, transpose, zeros,
} from '../src/index.js';
import type { DType } from '../src/dtype.js';
import { expectSameArray } from './helpers.js';

// Every async op goes to the pool, so it is still in flight when the test calls a sync op.
process.env.SIMDTENSOR_ASYNC_INLINE_OPS = '0';

/** A tensor over `buf` starting at element `off` (for building overlapping views). */
function view(buf: Float32Array, off: number, shape: number[]): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(buf.subarray(off, off + n), shape) as Tensor<'float32'>;
}
const copy = (t: Tensor): Tensor => tensor((t.data as Float32Array).slice(), t.shape.slice());
const expectSameValues = (got: Tensor, want: Tensor) => expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want.data as Float32Array));

describe('out overlapping an input', () => {
  it("matmul/linear refuse out aliasing a, b or bias, whole or partly (the issue's a[8,512] · b[512,512] case)", () => {
    const a = rand([8, 512], { seed: 1 });
    const b = rand([512, 512], { seed: 2 });
    expect(() => matmul(a, b, { out: a })).toThrow(RangeError);
    expect(() => matmul(a, b, { out: a })).toThrow(/^matmul: out \(bytes \[0, 16384\) of its buffer\) overlaps a \(bytes \[0, 16384\)/);
    const bias = rand([512], { seed: 3 });
    const buf = new Float32Array(8 * 512 + 512);
    const out = view(buf, 0, [8, 512]);
    const biasIn = view(buf, 8 * 512 - 1, [512]); // one element shared
    expect(() => matmul(a, b, { out, bias: biasIn })).toThrow(/overlaps bias/);
    expect(() => matmul(a, b, { out: b.rows(0, 8) })).toThrow(/overlaps b/);
    expect(() => linear(a, b, bias, { out: a })).toThrow(/^linear: out .* overlaps x/);
    const p = packWeights(b);
    expect(() => linear(a, p, null, { out: a })).toThrow(/^linear: out .* overlaps x/);
    // A separate out of the right shape is fine and right.
    const good = zeros([8, 512]);
    matmul(a, b, { out: good });
    expectSameArray(good.data, matmul(a, b).data);
    // The async forms refuse the same way (a rejected promise, nothing started).
    return Promise.all([
      expect(matmulAsync(a, b, { out: a })).rejects.toThrow(/^matmulAsync: out .* overlaps a/),
      expect(linearAsync(a, b, null, { out: a })).rejects.toThrow(/^linearAsync: out .* overlaps x/),
    ]);
  });

  it('int8, half and sparse GEMMs refuse an out sharing bytes with an input', () => {
    // int8: a int8 [4, 8] and an int32 out [4, 8] over the same bytes.
    const ab = new ArrayBuffer(4 * 8 * 4);
    const a8 = tensor(new Int8Array(ab, 0, 32), [4, 8]);
    const out32 = tensor(new Int32Array(ab), [4, 8]);
    expect(() => matmul(a8, tensor(new Int8Array(64), [8, 8]), { out: out32 })).toThrow(/^matmul: out .* overlaps a/);
    const q = quantize(rand([8, 8], { seed: 4 }));
    const x = rand([4, 8], { seed: 5 });
    expect(() => linear(x, q, null, { out: x })).toThrow(/^linear: out .* overlaps x/);
    // half weights, float32 activations.
    const wh = cast(rand([8, 8], { seed: 6 }), 'float16');
    expect(() => linear(x, wh, null, { out: x })).toThrow(/^linear: out .* overlaps x/);
    expect(() => matmul(x, packWeights(wh), { out: x })).toThrow(/^matmul: out .* overlaps a/);
    // sparse weights.
    const sp = toSparse(rand([8, 8], { seed: 7 }));
    expect(() => linear(x, sp, null, { out: x })).toThrow(/^linear: out .* overlaps x/);
    // dequantize: 4 bytes written per byte read, so even the same start is refused.
    const qb = new ArrayBuffer(64 * 4);
    const qt = quantize(tensor(new Float32Array(64).fill(0.5), [64]));
    const qd = new Int8Array(qb, 0, 64);
    qd.set(qt.data.data as Int8Array);
    const q2 = new (qt.constructor as new (d: Tensor, s: Float32Array, z: Int32Array) => typeof qt)(tensor(qd, [64]), qt.scale, qt.zeroPoint);
    expect(() => dequantize(q2, { out: tensor(new Float32Array(qb), [64]) })).toThrow(/^dequantize: out .* overlaps q.data/);
  });

  it('elementwise ops run exactly in place and match the out-of-place result', () => {
    const a = rand([5, 33], { seed: 8, low: -3, high: 3 });
    const b = rand([5, 33], { seed: 9, low: -3, high: 3 });
    const g = rand([33], { seed: 10 });
    const be = rand([33], { seed: 11 });
    const cases: Array<[string, (x: Tensor, o?: Tensor) => Tensor]> = [
      ['relu', (x, o) => relu(x, { out: o })],
      ['gelu', (x, o) => gelu(x, { out: o })],
      ['add a', (x, o) => add(x, b, { out: o })],
      ['sub a', (x, o) => sub(x, b, { out: o })],
      ['mul a', (x, o) => mul(x, b, { out: o })],
      ['add b', (x, o) => add(b, x, { out: o })],
      ['add row', (x, o) => add(x, g, { out: o })],
      ['softmax', (x, o) => softmax(x, { out: o })],
      ['logSoftmax', (x, o) => logSoftmax(x, { out: o })],
      ['layerNorm', (x, o) => layerNorm(x, g, be, { out: o })],
      ['reluBackward', (x, o) => reluBackward(b, x, o)],
      ['geluBackward', (x, o) => geluBackward(b, x, o)],
    ];
    for (const [name, op] of cases) {
      const want = op(copy(a));
      const x = copy(a);
      const got = op(x, x);
      expect(got, name).toBe(x);
      expectSameValues(got, want);
    }
  });

  it('elementwise ops refuse a shifted or partial overlap, and a row operand, gamma or beta inside out', () => {
    const buf = new Float32Array(4 * 16 + 1);
    buf.set(rand([4 * 16 + 1], { seed: 12 }).data);
    const x = view(buf, 0, [4, 16]);
    const shifted = view(buf, 1, [4, 16]);
    for (const [name, op] of [
      ['relu', () => relu(x, { out: shifted })],
      ['gelu', () => gelu(x, { out: shifted })],
      ['add', () => add(x, rand([4, 16]), { out: shifted })],
      ['softmax', () => softmax(x, { out: shifted })],
      ['logSoftmax', () => logSoftmax(x, { out: shifted })],
      ['layerNorm', () => layerNorm(x, null, null, { out: shifted })],
      ['reluBackward', () => reluBackward(rand([4, 16]), x, shifted)],
      ['transpose', () => transpose(view(buf, 0, [4, 16]), view(buf, 1, [16, 4]))],
    ] as Array<[string, () => unknown]>) {
      expect(op, name).toThrow(RangeError);
      expect(op, name).toThrow(/overlaps/);
    }
    const out = zeros([4, 16]);
    expect(() => add(rand([4, 16]), out.rows(0, 1).reshape([16]), { out })).toThrow(/^add: out .* overlaps b \(a row broadcast/);
    expect(() => layerNorm(rand([4, 16]), out.rows(1, 2).reshape([16]), null, { out })).toThrow(/overlaps gamma/);
    expect(() => layerNorm(rand([4, 16]), null, out.rows(3, 4).reshape([16]), { out })).toThrow(/overlaps beta/);
    // transpose moves every element: even exactly in place is refused.
    const sq = rand([4, 4]);
    expect(() => transpose(sq, sq)).toThrow(/^transpose: out .* overlaps x/);
    // Views of the same buffer that do not overlap are fine.
    const two = new Float32Array(32);
    two.set(rand([16], { seed: 13 }).data);
    const lo = view(two, 0, [16]);
    const hi = view(two, 16, [16]);
    relu(lo, { out: hi });
    expect(Array.from(hi.data)).toEqual(Array.from(relu(lo).data));
  });

  it("softmax's out must have x's shape, not only its size", () => {
    expect(() => softmax(rand([2, 3]), { out: zeros([3, 2]) })).toThrow(/^softmax: out has shape \[3, 2\], needs \[2, 3\]/);
    expect(() => relu(rand([2, 3]), { out: zeros([6]) })).toThrow(RangeError);
    expect(() => matmul(rand([2, 3]), rand([3, 4]), { out: zeros([4, 2]) })).toThrow(/^matmul: out has shape \[4, 2\], needs \[2, 4\]/);
    // A GEMM out may flatten leading dimensions (row i of the result is row i of out).
    expect(matmul(rand([2, 3, 3]), rand([3, 4]), { out: zeros([6, 4]) }).shape).toEqual([6, 4]);
  });
});

describe('options', () => {
  it('null and undefined mean no options, for every op taking options', async () => {
    const a = rand([3, 4], { seed: 1 });
    const b = rand([4, 5], { seed: 2 });
    expect(Array.from(matmul(a, b, null).data)).toEqual(Array.from(matmul(a, b).data));
    expect(matmul(a, b, undefined).shape).toEqual([3, 5]);
    expect(linear(a, rand([5, 4]), null, null).shape).toEqual([3, 5]);
    expect(softmax(a, null).shape).toEqual([3, 4]);
    expect(logSoftmax(a, null).shape).toEqual([3, 4]);
    expect(relu(a, null).shape).toEqual([3, 4]);
    expect(gelu(a, null).shape).toEqual([3, 4]);
    expect(add(a, a, null).shape).toEqual([3, 4]);
    expect(layerNorm(a, null, null, null).shape).toEqual([3, 4]);
    expect(rand([2], null).shape).toEqual([2]);
    expect(dequantize(quantize(a, null), null).shape).toEqual([3, 4]);
    expect(packWeights(b, null)).toBeDefined();
    expect((await matmulAsync(a, b, null)).shape).toEqual([3, 5]);
    expect((await linearAsync(a, rand([5, 4]), null, null)).shape).toEqual([3, 5]);
    expect(transpose(a, null).shape).toEqual([4, 3]);
  });

  it('a non-object options argument is a TypeError from the library', () => {
    expect(() => matmul(rand([2, 2]), rand([2, 2]), 'fast' as never)).toThrow(/^matmul: opts must be an object \(or null\/undefined\), got 'fast'/);
    expect(() => softmax(rand([2, 2]), 3 as never)).toThrow(TypeError);
  });

  it("linear's errors are linear's, and rand lists the valid dtypes", () => {
    expect(() => linear(rand([2, 3]), rand([4, 3]), null, { activation: 'sigmoid' as never })).toThrow(/^linear: activation must be 'none', 'relu' or 'gelu', got 'sigmoid'/);
    expect(() => linear(rand([2, 3]), packWeights(rand([4, 3])), null, { activation: 'sigmoid' as never })).toThrow(/^linear: activation/);
    expect(() => rand([2], { dtype: 'float64' as DType })).toThrow(/^rand: opts.dtype must be one of float32, float16, bfloat16, int8, uint8, int32, got 'float64'/);
    expect(() => zeros([2], 'float64' as DType)).toThrow(/float32, float16, bfloat16, int8, uint8, int32/);
  });
});

describe('tensors entering the API', () => {
  it('a shape array edited after creation is refused (its product no longer matches the data)', () => {
    const t = rand([2, 3]);
    (t.shape as number[])[0] = 3;
    expect(() => relu(t)).toThrow(/^relu: x.shape \[3, 3\] does not match its 6 elements/);
    expect(() => matmul(t, rand([3, 2]))).toThrow(/^matmul: a.shape/);
    expect(() => softmax(t)).toThrow(RangeError);
    const u = rand([2, 3]);
    (u.shape as number[])[1] = -3;
    (u.shape as number[])[0] = -2;
    expect(() => add(u, u)).toThrow(/does not match/);
  });

  it('reshape takes the shape as an array or as arguments, and refuses a mix', () => {
    const t = rand([3]);
    expect(t.reshape(3, 1).shape).toEqual([3, 1]);
    expect(t.reshape([1, 3]).shape).toEqual([1, 3]);
    expect(t.reshape(-1, 1).shape).toEqual([3, 1]);
    expect(t.reshape(3).shape).toEqual([3]);
    expect(() => t.reshape([3], 1 as never)).toThrow(/^reshape: pass the shape as one array or as separate numbers/);
    expect(() => t.reshape('3' as never)).toThrow(/^reshape: shape must be an array/);
    expect(() => t.reshape(2, 2)).toThrow(/^reshape: shape \[2, 2\] has 4 elements, tensor has 3/);
  });
});

describe('sync ops never touch memory an async op in flight owns', () => {
  it('sync ops refuse ERR_SIMDTENSOR_BUSY to write, or read, memory matmulAsync is still writing', async () => {
    const a = rand([64, 64], { seed: 1 });
    const b = rand([64, 64], { seed: 2 });
    const out = zeros([64, 64]);
    const x = rand([64, 64], { seed: 3 });
    const pending = matmulAsync(a, b, { out });
    const busy = (f: () => unknown, name: string) => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string })?.code, name).toBe('ERR_SIMDTENSOR_BUSY');
    };
    busy(() => relu(x, { out }), 'relu');
    busy(() => gelu(x, { out }), 'gelu');
    busy(() => add(x, x, { out }), 'add');
    busy(() => add(x, 1, { out }), 'add scalar');
    busy(() => softmax(x, { out }), 'softmax');
    busy(() => layerNorm(x, null, null, { out }), 'layerNorm');
    busy(() => transpose(x, out), 'transpose');
    busy(() => reluBackward(x, x, out), 'reluBackward');
    busy(() => matmul(x, x, { out }), 'matmul');
    busy(() => dequantize(quantize(x), { out }), 'dequantize');
    // Reading the output before it is complete is refused too (f32 elementwise ops and GEMMs).
    busy(() => relu(out), 'relu reading');
    busy(() => add(x, out), 'add reading b');
    busy(() => add(x, out.rows(0, 1).reshape([64])), 'add reading a row');
    busy(() => softmax(out), 'softmax reading');
    busy(() => layerNorm(x, out.rows(0, 1).reshape([64])), 'layerNorm reading gamma');
    busy(() => matmul(out, b), 'matmul reading a');
    busy(() => matmul(x, out), 'matmul reading b');
    // Reading what an async op only reads is fine.
    expect(relu(a).shape).toEqual([64, 64]);
    await pending;
    // Settled: the same calls now run.
    expect(relu(x, { out })).toBe(out);
    expect(dequantize(quantize(x), { out })).toBe(out);
  });
});
