import { afterEach, describe, expect, it } from 'vitest';
import {
  cast, cpuInfo, getMaxIsa, hasFloat16Array, kernelForM, linear, matmul, packHalfWeights, PackedHalfWeights, packWeights,
  lastHalfKernel, probeHalfPeak, rand, setMaxIsa, tensor, toFloat16Array, zeros, Tensor, type Activation,
  quantize, scope, setBufferPoolLimit, bufferPoolStats,
} from '../src/index.js';
import { compiledIsas, itIsa, refMatmul, roundHalfEven, supportedIsas, expectSameArray } from './helpers.js';

const best = getMaxIsa();
afterEach(() => {
  setMaxIsa(best);
});

// Independent JS oracles (double arithmetic, exact for these formats).
/** float32 value → binary16 bits (non-NaN). */
function f16Bits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  while (a / 2 ** e >= 2) e++;
  while (a / 2 ** e < 1) e--;
  let q = roundHalfEven((a / 2 ** e) * 1024);
  if (q === 2048) {
    q = 1024;
    e++;
  }
  return sign | ((e + 15) << 10) | (q - 1024);
}
/** float32 value → bfloat16 bits (non-NaN). */
function bf16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
}
function bf16Value(h: number): number {
  return new Float32Array(new Uint32Array([h << 16]).buffer)[0];
}

const SPECIALS = [
  0, -0, 1, -1, 0.1, 65504, 65519.99, 65520, -65520, 1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0000001, 3 * 2 ** -25,
  2 ** -14, 2 ** -14 - 2 ** -25, 5.960464477539063e-8, 1e-40, -1e-45, 3.4028234663852886e38, 1 + 2 ** -11, 1 + 3 * 2 ** -11,
  1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity, -Infinity,
];

describe('half casts', () => {
  for (const isa of compiledIsas()) {
    itIsa(isa)(`${isa}: float32 → float16/bfloat16 rounds to nearest even (specials, random) and widens exactly`, () => {
      setMaxIsa(isa);
      const r = rand([4099], { seed: 7, low: -70000, high: 70000 }).data as Float32Array;
      const small = rand([1000], { seed: 8, low: -1e-4, high: 1e-4 }).data as Float32Array;
      const src = Float32Array.from([...SPECIALS, ...r, ...small]);
      const t = tensor(src, [src.length]);
      const h = cast(t, 'float16');
      const b = t.to('bfloat16');
      expect(h.dtype).toBe('float16');
      expect(b.dtype).toBe('bfloat16');
      const bad: string[] = [];
      for (let i = 0; i < src.length && bad.length < 5; i++) {
        if (h.data[i] !== f16Bits(src[i])) bad.push(`f16 of ${src[i]}: ${h.data[i]} want ${f16Bits(src[i])}`);
        if (b.data[i] !== bf16Bits(src[i])) bad.push(`bf16 of ${src[i]}: ${b.data[i]} want ${bf16Bits(src[i])}`);
      }
      const back = h.to('float32').data as Float32Array;
      const backB = b.to('float32').data as Float32Array;
      for (let i = 0; i < src.length && bad.length < 5; i++) {
        if (!Object.is(back[i], Math.fround(f16Value(h.data[i] as number)))) bad.push(`f16→f32 ${h.data[i]}: ${back[i]}`);
        if (!Object.is(backB[i], bf16Value(b.data[i] as number))) bad.push(`bf16→f32 ${b.data[i]}: ${backB[i]}`);
      }
      expect(bad, isa).toEqual([]);
    });
    itIsa(isa)(`${isa}: all 65536 half patterns widen exactly and round-trip`, () => {
      setMaxIsa(isa);
      const bits = new Uint16Array(65536).map((_, i) => i);
      for (const dt of ['float16', 'bfloat16'] as const) {
        const f = tensor(bits, [65536], dt).to('float32').data as Float32Array;
        const again = tensor(f, [65536]).to(dt).data as Uint16Array;
        const bad: string[] = [];
        for (let i = 0; i < 65536 && bad.length < 5; i++) {
          const v = dt === 'float16' ? f16Value(i) : bf16Value(i);
          if (Number.isNaN(v)) {
            // NaN stays NaN and comes back quieted.
            if (!Number.isNaN(f[i]) || again[i] !== (i | (dt === 'float16' ? 0x200 : 0x40))) bad.push(`${dt} NaN ${i}: ${f[i]} → ${again[i]}`);
          } else if (!Object.is(f[i], v) || again[i] !== i) {
            bad.push(`${dt} ${i}: ${f[i]} (want ${v}) → ${again[i]}`);
          }
        }
        expect(bad, isa).toEqual([]);
      }
    });
  }
  it('NaN stays NaN with its sign; float16 ↔ bfloat16 goes through float32; integers cast both ways', () => {
    const t = tensor(new Float32Array([NaN, -NaN, 3.5, -2]), [4]);
    const h = t.to('float16').data as Uint16Array;
    expect(h[0] & 0x7e00).toBe(0x7e00);
    expect(h[2]).toBe(f16Bits(3.5));
    const hb = t.to('float16').to('bfloat16');
    expect(hb.dtype).toBe('bfloat16');
    expect(Array.from(hb.to('float32').data).slice(2)).toEqual([3.5, -2]);
    const i8 = tensor(new Int8Array([-3, 0, 7]), [3]);
    expect(Array.from(i8.to('float16').to('float32').data)).toEqual([-3, 0, 7]);
    expect(Array.from(tensor([1.5, -2.5, 300], [3], 'float16').to('int32').data)).toEqual([2, -2, 300]);
    expect(cast(t, 'float32')).toBe(t);
    expect(() => cast(t, 'float64' as never)).toThrow(TypeError);
    expect(() => cast({} as Tensor, 'float16')).toThrow(/cast: t must be a Tensor/);
  });
  it('Float16Array interop where the runtime has one, raw Uint16Array bits everywhere', () => {
    const h = tensor(new Float32Array([1, -2, 0.5]), [3]).to('float16');
    const raw = tensor(new Uint16Array(h.data as Uint16Array), [3], 'float16');
    expect(Array.from(raw.to('float32').data)).toEqual([1, -2, 0.5]);
    if (hasFloat16Array()) {
      const F16 = (globalThis as unknown as { Float16Array: new (a: number[]) => ArrayLike<number> }).Float16Array;
      const fa = new F16([1.5, -3, 65504]);
      const t = tensor(fa as unknown as Uint16Array);
      expect(t.dtype).toBe('float16');
      expect(Array.from(t.to('float32').data)).toEqual([1.5, -3, 65504]);
      expect(Array.from(toFloat16Array(h) as unknown as ArrayLike<number>)).toEqual([1, -2, 0.5]);
    } else {
      console.log(`half: Float16Array interop SKIPPED (Node ${process.versions.node} has no Float16Array)`);
      expect(() => toFloat16Array(h)).toThrow(/toFloat16Array: this runtime .* has no Float16Array/);
    }
    expect(() => toFloat16Array(tensor(new Float32Array(2), [2]))).toThrow(/t.dtype must be float16, got float32/);
  });
});

/** Reference act(A·op(B) + bias) from exactly widened operands (refMatmul); Σ|ab| for the bound. */
const ref = (a: Float32Array, m: number, k: number, b: Float32Array, n: number, transB: boolean, bias: Float32Array | null, act: string) =>
  refMatmul(a, m, k, b, n, transB, bias, act as Activation);
// f32 accumulation of K exact products: |err| <= gamma(K+2, 2^-24)·Σ|ab| (Higham), ×1.13 through GELU's slope.
// The native-fp16 kernels (not on x86 here) sum 32 products in fp16 first: gamma(32, 2^-11) more.
const U32 = 2 ** -24;
const U16 = 2 ** -11;
function relBound(kernel: string, k: number): number {
  const g = (n: number, u: number) => (n * u) / (1 - n * u);
  const fp16Native = /__(avx512fp16|neonfp16)$/.test(kernel);
  return (fp16Native ? g(32, U16) + g(k / 32 + 2, U32) : g(k + 2, U32)) * 1.13;
}
function check(got: Float32Array, want: Float64Array, mag: Float64Array, rel: number, outU: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const tol = rel * mag[i] + (outU + U32) * Math.abs(want[i]) + 1e-6;
    if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`${what}: [${i}] = ${got[i]}, want ${want[i]} (tol ${tol})`);
  }
}
const f32 = (t: Tensor) => (t.dtype === 'float32' ? t : t.to('float32')).data as Float32Array;

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 63, 64], [3, 64, 33], [8, 17, 31], [9, 65, 65], [17, 40, 97], [33, 300, 65], [1, 255, 257], [40, 130, 70],
];
const ACTS = ['none', 'relu', 'gelu'] as const;

describe('half matmul / linear', () => {
  for (const isa of compiledIsas()) {
    itIsa(isa)(`${isa}: f16×f16, bf16×bf16, f32×f16 and f32×bf16 match the reference (raw and packed, bias, activations)`, () => {
      setMaxIsa(isa);
      const kernels = cpuInfo().kernels;
      let seed = 1;
      for (const [m, k, n] of SHAPES)
        for (const [adt, bdt] of [['float16', 'float16'], ['bfloat16', 'bfloat16'], ['float32', 'float16'], ['float32', 'bfloat16']] as const) {
          const act = ACTS[seed % 3];
          const tb = seed % 2 === 0;
          const a = rand([m, k], { seed: seed++, dtype: adt });
          const b = rand(tb ? [n, k] : [k, n], { seed: seed++, dtype: bdt });
          const bias = seed % 3 === 0 ? rand([n], { seed: seed++ }) : null;
          const r = ref(f32(a), m, k, f32(b), n, tb, bias ? (bias.data as Float32Array) : null, act);
          const op = adt === 'float32' ? `linear.${bdt === 'float16' ? 'f16w' : 'bf16w'}` : `matmul.${bdt === 'float16' ? 'f16' : 'bf16'}`;
          // Up to 8 rows (kHalfGemvMaxM; one on AMX panels) the small-M kernel over the same panels runs where the
          // layout has one: kernelForM names the driver's choice, the .smallM row the one at M = 1.
          const kernel = kernelForM(op, m);
          expect(kernel, op).toBe(m === 1 ? kernels[`${op}.smallM`] : m > 8 ? kernels[op] : kernel);
          const got = matmul(a, b, { transB: tb, bias, activation: act });
          expect(lastHalfKernel()).toBe(kernel);
          expect(got.dtype).toBe('float32');
          expect(got.shape).toEqual([m, n]);
          check(got.data as Float32Array, r.c, r.mag, relBound(kernel, k), 0, `${kernel} ${adt}×${bdt} ${m}x${k}x${n} tb=${tb} ${act}`);
          const w = tb ? b : b.to('float32').to(bdt); // packWeights takes [out, in] (linear) or [K, N] ('kn')
          const p = packWeights(w, { layout: tb ? 'linear' : 'kn', inputDtype: seed % 4 === 0 ? adt : undefined }) as PackedHalfWeights;
          expect(p).toBeInstanceOf(PackedHalfWeights);
          expect(p.dtype).toBe(bdt);
          expect([p.k, p.n]).toEqual([k, n]);
          const got2 = matmul(a, p, { bias, activation: act });
          check(got2.data as Float32Array, r.c, r.mag, relBound(kernel, k), 0, `packed ${kernel} ${m}x${k}x${n}`);
        }
    });
  }
  it('kernelForM names the kernel the driver runs at every M (small-M cap, one row on AMX panels), per ISA', () => {
    const pairs = [['float16', 'float16', 'matmul.f16'], ['bfloat16', 'bfloat16', 'matmul.bf16'], ['float32', 'float16', 'linear.f16w'], ['float32', 'bfloat16', 'linear.bf16w']] as const;
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const kernels = cpuInfo().kernels;
      for (const [adt, bdt, op] of pairs) {
        const b = rand([24, 40], { seed: 5, dtype: bdt });
        for (let m = 1; m <= 10; m++) {
          matmul(rand([m, 40], { seed: m, dtype: adt }), b, { transB: true });
          expect(kernelForM(op, m), `${isa} ${op} m=${m}`).toBe(lastHalfKernel());
        }
        expect(kernels[`${op}.smallM`], `${isa} ${op}`).toBe(kernelForM(op, 1));
        expect(kernelForM(op, 64), `${isa} ${op}`).toBe(kernels[op]);
        // AMX panels: the small-M kernel for one row only, the tiles from two (half_gemv_max_m_for).
        if (/__amx/.test(kernels[op])) expect(kernelForM(op, 2), `${isa} ${op}`).toBe(kernels[op]);
      }
    }
  });
  it('kernelForM: ops without a small-M kernel give their row; bad arguments are named errors', () => {
    const kernels = cpuInfo().kernels;
    expect(kernelForM('matmul.f32', 1)).toBe(kernels['matmul.f32']);
    expect(kernelForM('linear.int8', 1)).toBe(kernels['linear.int8.smallM']);
    expect(kernelForM('linear.int8', 64)).toBe(kernels['linear.int8']);
    expect(() => kernelForM('bogus', 1)).toThrow(RangeError);
    expect(() => kernelForM('bogus', 1)).toThrow(/kernelForM: unknown op 'bogus'/);
    expect(() => kernelForM(5 as unknown as string, 1)).toThrow(/kernelForM: op must be a string, got 5/);
    expect(() => kernelForM('matmul.f16', '1' as unknown as number)).toThrow(TypeError);
    expect(() => kernelForM('matmul.f16', -1)).toThrow(/kernelForM: m must be a non-negative integer, got -1/);
    expect(() => kernelForM('matmul.f16', 1.5)).toThrow(RangeError);
  });
  it('linear(x, w) takes f16/bf16 weights raw or packed, any leading dims, half output', () => {
    const x = rand([2, 3, 40], { seed: 1 });
    const w = rand([24, 40], { seed: 2, dtype: 'float16' });
    const bias = rand([24], { seed: 3 });
    const r = ref(f32(x), 6, 40, f32(w), 24, true, bias.data as Float32Array, 'relu');
    const y = linear(x, w, bias, { activation: 'relu' });
    expect(y.shape).toEqual([2, 3, 24]);
    check(y.data as Float32Array, r.c, r.mag, relBound('', 40), 0, 'linear raw f16');
    const p = packWeights(w);
    expect(p).toBeInstanceOf(PackedHalfWeights);
    expect((p as PackedHalfWeights).bytes).toBeGreaterThanOrEqual(24 * 40 * 2);
    const yp = linear(x, p, bias, { activation: 'relu' });
    expect(Array.from(yp.data)).toEqual(Array.from(y.data));
    // Half output is the f32 result rounded once.
    for (const od of ['float16', 'bfloat16'] as const) {
      const yh = linear(x, p, bias, { activation: 'relu', outDtype: od });
      expect(yh.dtype).toBe(od);
      expect(Array.from(yh.data)).toEqual(Array.from(y.to(od).data));
    }
    // Into a preallocated out.
    const out = zeros([2, 3, 24], 'bfloat16');
    expect(linear(x, p, bias, { activation: 'relu', out })).toBe(out);
    expect(Array.from(out.data)).toEqual(Array.from(y.to('bfloat16').data));
    // f32 weights packed as bf16 (rounded once).
    const wf = rand([24, 40], { seed: 5 });
    const pb = packWeights(wf, { dtype: 'bfloat16' }) as PackedHalfWeights;
    expect(pb.dtype).toBe('bfloat16');
    const rb = ref(f32(x), 6, 40, f32(wf.to('bfloat16')), 24, true, null, 'none');
    check(linear(x, pb).data as Float32Array, rb.c, rb.mag, relBound('', 40), 0, 'f32 weights packed as bf16');
  });
  it('half a with float32 b runs exactly in float32; NaN/Inf propagate; K = 0 gives act(bias)', () => {
    const a = rand([5, 9], { seed: 4, dtype: 'float16' });
    const b = rand([9, 7], { seed: 5 });
    const r = ref(f32(a), 5, 9, b.data as Float32Array, 7, false, null, 'none');
    check(matmul(a, b).data as Float32Array, r.c, r.mag, relBound('', 9), 0, 'f16 × f32');
    const an = tensor(new Float32Array([NaN, 1, Infinity, 1]), [2, 2]).to('float16');
    const bn = tensor(new Float32Array([1, 1, 1, -Infinity]), [2, 2]).to('float16');
    const c = matmul(an, bn).data as Float32Array;
    expect(Number.isNaN(c[0]) && Number.isNaN(c[1])).toBe(true);
    expect(c[2]).toBe(Infinity);
    expect(Number.isNaN(c[3])).toBe(true);
    const bias = tensor(new Float32Array([-1, 2]), [2]);
    const k0 = matmul(zeros([3, 0], 'float16'), zeros([0, 2], 'float16'), { bias, activation: 'relu' });
    expect(Array.from(k0.data)).toEqual([0, 2, 0, 2, 0, 2]);
  });
  it('names each kernel in cpuInfo and follows the ISA cap', () => {
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const k = cpuInfo().kernels;
      for (const op of ['matmul.f16', 'matmul.bf16', 'linear.f16w', 'linear.bf16w', 'cast.f32>f16', 'cast.bf16>f32']) {
        expect(k[op], `${op} under ${isa}`).toBeTruthy();
        if (isa === 'scalar') expect(k[op]).toMatch(/__scalar$/);
      }
    }
  });
  it('rejects bad input with errors that name the argument and the values', () => {
    const a = rand([4, 8], { dtype: 'float16' });
    const b = rand([9, 3], { dtype: 'float16' });
    expect(() => matmul(a, b)).toThrow(RangeError);
    expect(() => matmul(a, b)).toThrow('matmul: a.shape[1] (8) must equal b.shape[0] (9)');
    const w = rand([3, 8], { dtype: 'bfloat16' });
    expect(() => linear(rand([2, 7]), w)).toThrow('linear: x.shape[1] (7) must equal w.shape[1] (8) (in features)');
    const p = packWeights(w) as PackedHalfWeights;
    expect(() => linear(rand([2, 7]), p)).toThrow("linear: a.shape[1] (7) must equal the packed weights' K (8)");
    expect(() => linear(rand([2, 8]), p, rand([4]))).toThrow('linear: bias has 4 elements ([4]), needs 3');
    expect(() => linear(rand([2, 8]), p, null, { outDtype: 'int8' as never })).toThrow(/outDtype must be 'float32', 'float16' or 'bfloat16', got 'int8'/);
    expect(() => linear(rand([2, 8]), p, null, { out: zeros([2, 4]) })).toThrow('linear: out has shape [2, 4], needs [2, 3]');
    expect(() => linear(rand([2, 8]), p, null, { out: zeros([2, 3], 'int32') })).toThrow(TypeError);
    expect(() => linear(rand([2, 8], { dtype: 'int8' }), p)).toThrow(/a.dtype must be float32, float16 or bfloat16 with half weights, got int8/);
    expect(() => linear(rand([2, 8]), p, null, { activation: 'tanh' as never })).toThrow(/activation must be/);
    expect(() => packHalfWeights(rand([3, 8]), { dtype: 'float8' as never })).toThrow(/dtype must be 'float16' or 'bfloat16'/);
    expect(() => packHalfWeights(rand([3, 8]))).toThrow('packWeights: w.dtype must be float16 or bfloat16 (or pass dtype), got float32');
    expect(() => packWeights(rand([3, 8, 2], { dtype: 'float16' }))).toThrow('packWeights: w must be 2-D, got shape [3, 8, 2]');
    expect(() => packWeights(rand([3, 8], { dtype: 'float16' }), { inputDtype: 'int8' })).toThrow(/inputDtype must be 'float32', 'float16' or 'bfloat16', got 'int8'/);
    expect(() => probeHalfPeak('fp8' as never)).toThrow(TypeError);
    expect(() => probeHalfPeak('bf16dot', -1)).toThrow(RangeError);
  });
  it('fresh GEMM outputs (not zero-filled) hold every value: reused pool blocks and uninitialized plain buffers', () => {
    // Pool-sized outputs of linear (bf16, f16 weights; dynamic int8) skip the zero fill: a block a scope gave back full
    // of NaN is reused as is, and past the pool's limit a plain buffer comes uninitialized. Every element must still
    // be the product's (compared with {out} into a zeroed tensor).
    const m = 70, k = 33, n = 1024; // 70×1024 floats = 280 KiB: pool-sized
    const x = rand([m, k], { seed: 5 });
    const ws = [packWeights(rand([n, k], { seed: 6 }), { dtype: 'bfloat16' }), packWeights(rand([n, k], { seed: 7 }), { dtype: 'float16' }),
      packWeights(quantize(rand([n, k], { seed: 8 }), { axis: 0 }) as never)];
    const limit = bufferPoolStats().limitBytes;
    try {
      for (const w of ws) {
        const want = zeros([m, n]);
        linear(x, w as never, null, { out: want } as never);
        for (const lim of [limit, 0]) {
          setBufferPoolLimit(lim);
          scope(() => void (linear(x, w as never) as Tensor).data.fill(NaN)); // a block full of NaN goes back
          const got = linear(x, w as never) as Tensor;
          expectSameArray(got.data, want.data);
        }
        setBufferPoolLimit(limit);
      }
    } finally {
      setBufferPoolLimit(limit);
    }
  });
  it('probes report GFLOP/s for units this CPU has and null for the others', () => {
    const flags = cpuInfo().flags;
    const bf = probeHalfPeak('bf16dot', 20);
    if (flags.avx512bf16) expect(bf).toBeGreaterThan(1);
    else expect(bf).toBeNull();
    if (!flags.avx512fp16 && !flags.neonFp16) expect(probeHalfPeak('fp16fma', 20)).toBeNull();
    if (!flags.amxPermitted) expect(probeHalfPeak('amxbf16', 20)).toBeNull();
  });
});
