// Async forms of the int8 and half-precision GEMM families: matmulAsync / linearAsync give the sync op's result
// bit for bit (the same kernel runs on the same partition), refuse bad input with the sync op's errors, honour
// AbortSignal, refuse a second in-flight op writing the same output (ERR_SIMDTENSOR_BUSY), and leave the event
// loop free while they run.
import { afterAll, describe, expect, it } from 'vitest';
import {
  cast, executorStats, getNumThreads, linear, linearAsync, matmul, matmulAsync, PackedHalfWeights, PackedInt8Weights,
  packWeights, quantize, quantizeDynamic, QuantizedTensor, rand, setNumThreads, Tensor, zeros,
} from '../src/index.js';
import { itTiming } from './helpers.js';

// Every async op goes to the pool, even 1×1×1 (by default ops under 131072 arithmetic ops run inline on this
// thread). Read once, at this process's first async op: vitest runs each test file in its own process.
process.env.SIMDTENSOR_ASYNC_INLINE_OPS = '0';

const initialThreads = getNumThreads();
afterAll(() => {
  setNumThreads(initialThreads);
});

const bytesOf = (t: Tensor): Buffer => {
  const d = t.data as ArrayBufferView;
  return Buffer.from(d.buffer, d.byteOffset, t.size * (d as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
};
/** Same dtype, shape and bytes (float results compared bitwise: 0 tolerance, NaN payloads included). */
function expectSame(got: Tensor | QuantizedTensor, want: Tensor | QuantizedTensor, label: string): void {
  if (want instanceof QuantizedTensor) {
    expect(got, label).toBeInstanceOf(QuantizedTensor);
    const g = got as QuantizedTensor;
    expect(Array.from(g.scale), label).toEqual(Array.from(want.scale));
    expect(Array.from(g.zeroPoint), label).toEqual(Array.from(want.zeroPoint));
    return expectSame(g.data, want.data, label);
  }
  expect(got, label).toBeInstanceOf(Tensor);
  const g = got as Tensor;
  expect(g.dtype, label).toBe(want.dtype);
  expect(g.shape, label).toEqual(want.shape);
  expect(Buffer.compare(bytesOf(g), bytesOf(want)), `${label}: bytes differ`).toBe(0);
}

/** The sync op's error (it must throw), and the async op rejecting with the same class and message. */
async function expectSameError(sync: () => unknown, async: () => Promise<unknown>, rename: [string, string] | null): Promise<void> {
  let err: unknown;
  try {
    sync();
  } catch (e) {
    err = e;
  }
  expect(err, 'the sync op should throw').toBeInstanceOf(Error);
  const e = err as Error;
  const msg = rename ? e.message.replace(`${rename[0]}:`, `${rename[1]}:`) : e.message;
  if (rename) expect(msg, 'message starts with the sync op name').not.toBe(e.message);
  let got: unknown;
  try {
    await async();
  } catch (x) {
    got = x;
  }
  expect(got, `async should reject like: ${msg}`).toBeInstanceOf(e.constructor);
  expect((got as Error).message).toBe(msg);
}
const M: [string, string] = ['matmul', 'matmulAsync'];
const L: [string, string] = ['linear', 'linearAsync'];

const SHAPES: [number, number, number][] = [[1, 1, 1], [7, 33, 65], [64, 255, 129]];
const ACTS = ['none', 'relu', 'gelu'] as const;

describe('int8 async forms equal the sync ops', () => {
  for (const threads of [1, 2]) {
    it(`matmul int8/uint8 → int32 (raw b, transB, packed) at ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      // The precondition: even the smallest op runs on a pool worker, not inline.
      const tiny = matmulAsync(rand([1, 1], { dtype: 'int8' }), rand([1, 1], { dtype: 'int8' }));
      expect(executorStats().pending).toBe(1); // submitted to the pool (an inline op is never pending)
      await tiny;
      for (const [i, [m, k, n]] of SHAPES.entries()) {
        for (const [adt, bdt] of [['uint8', 'int8'], ['int8', 'int8'], ['int8', 'uint8']] as const) {
          const a = rand([m, k], { seed: 100 + i, dtype: adt });
          const b = rand([k, n], { seed: 200 + i, dtype: bdt });
          const bt = rand([n, k], { seed: 300 + i, dtype: bdt });
          const label = `${adt}x${bdt} ${m}x${k}x${n} t=${threads}`;
          expectSame(await matmulAsync(a, b), matmul(a, b), `${label} raw`);
          expectSame(await matmulAsync(a, bt, { transB: true }), matmul(a, bt, { transB: true }), `${label} transB`);
          const packed = packWeights(bt) as PackedInt8Weights;
          expectSame(await matmulAsync(a, packed), matmul(a, packed), `${label} packed`);
          // Into a given out.
          const out = zeros([m, n], 'int32');
          const r = await matmulAsync(a, packed, { out });
          expect(r).toBe(out);
          expectSame(out, matmul(a, packed), `${label} out`);
        }
        // 3-D a keeps its leading dimensions.
        const a3 = rand([1, m, k], { seed: 7, dtype: 'uint8' });
        const b3 = rand([k, n], { seed: 8, dtype: 'int8' });
        expectSame(await matmulAsync(a3, b3), matmul(a3, b3), `3-D ${m}x${k}x${n}`);
      }
    });

    it(`linear: f32 x (dynamic) and quantized x, f32 / int8 / uint8 output, bias + activation at ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      for (const [i, [m, k, n]] of SHAPES.entries()) {
        const x = rand([m, k], { seed: 400 + i });
        const wq = quantize(rand([n, k], { seed: 500 + i }), { dtype: 'int8', scheme: 'symmetric', axis: 0 });
        const packed = packWeights(wq) as PackedInt8Weights;
        const bias = rand([n], { seed: 600 + i });
        const xq = quantizeDynamic(x);
        const xqt = quantize(x, { dtype: 'uint8' }); // per tensor
        for (const [j, act] of ACTS.entries()) {
          const label = `${m}x${k}x${n} ${act} t=${threads}`;
          for (const w of [wq, packed]) {
            const wl = w === wq ? 'QuantizedTensor w' : 'packed w';
            // f32 activations quantized per row on the worker, dequantized f32 output.
            expectSame(await linearAsync(x, w, bias, { activation: act }), linear(x, w, bias, { activation: act }), `${label} ${wl} f32 x`);
            // Quantized x (per row and per tensor), f32 output.
            expectSame(await linearAsync(xq as never, w, bias, { activation: act }), linear(xq as never, w, bias, { activation: act }), `${label} ${wl} per-row x`);
            expectSame(await linearAsync(xqt as never, w, null, { activation: act }), linear(xqt as never, w, null, { activation: act }), `${label} ${wl} per-tensor x`);
            // Requantized outputs, from f32 x (quantized on the worker) and from quantized x.
            for (const output of [{ dtype: 'int8' as const, scale: 0.05, zeroPoint: j - 1 }, { dtype: 'uint8' as const, scale: 0.02, zeroPoint: 128 }]) {
              const o = { activation: act, output };
              const ol = `${label} ${wl} → ${output.dtype}`;
              expectSame((await linearAsync(x, w, bias, o)) as never, linear(x, w, bias, o) as never, `${ol} f32 x`);
              expectSame((await linearAsync(xq as never, w, bias, o)) as never, linear(xq as never, w, bias, o) as never, `${ol} per-row x`);
            }
          }
        }
        // Into a given out (f32 and requantized).
        const out = zeros([m, n]);
        expect(await linearAsync(x, packed, bias, { out })).toBe(out);
        expectSame(out, linear(x, packed, bias), `${m}x${k}x${n} out`);
        const q8 = zeros([m, n], 'int8');
        const r = (await linearAsync(x, packed, bias, { out: q8, output: { dtype: 'int8', scale: 0.03 } })) as unknown as QuantizedTensor;
        expect(r.data).toBe(q8);
        expectSame(r, linear(x, packed, bias, { output: { dtype: 'int8', scale: 0.03 } }) as never, `${m}x${k}x${n} requant out`);
      }
    });
  }

  it('refuse bad input with the sync ops\' errors', async () => {
    const a = rand([4, 8], { dtype: 'uint8' });
    const b = rand([8, 3], { dtype: 'int8' });
    const packed = packWeights(rand([3, 8], { dtype: 'int8' })) as PackedInt8Weights;
    const x = rand([4, 8]);
    const wq = quantize(rand([3, 8]), { dtype: 'int8', scheme: 'symmetric', axis: 0 });
    const cases: [() => unknown, () => Promise<unknown>, [string, string] | null][] = [
      [() => matmul(a, rand([9, 3], { dtype: 'int8' })), () => matmulAsync(a, rand([9, 3], { dtype: 'int8' })), M],
      [() => matmul(a, b, { transB: true }), () => matmulAsync(a, b, { transB: true }), M],
      [() => matmul(a, b, { bias: rand([3]) }), () => matmulAsync(a, b, { bias: rand([3]) }), M],
      [() => matmul(a, b, { activation: 'relu' }), () => matmulAsync(a, b, { activation: 'relu' }), M],
      [() => matmul(a, rand([2, 8, 3], { dtype: 'int8' })), () => matmulAsync(a, rand([2, 8, 3], { dtype: 'int8' })), M],
      [() => matmul(rand([4, 9], { dtype: 'uint8' }), packed), () => matmulAsync(rand([4, 9], { dtype: 'uint8' }), packed), M],
      [() => matmul(a, b, { out: zeros([4, 3]) }), () => matmulAsync(a, b, { out: zeros([4, 3]) }), M],
      [() => matmul(a, b, { out: zeros([4, 4], 'int32') }), () => matmulAsync(a, b, { out: zeros([4, 4], 'int32') }), M],
      [() => linear(rand([4, 7]), packed), () => linearAsync(rand([4, 7]), packed), L],
      [() => linear(x, wq, rand([4])), () => linearAsync(x, wq, rand([4])), L],
      [() => linear(x, wq, null, { activation: 'tanh' as never }), () => linearAsync(x, wq, null, { activation: 'tanh' as never }), L],
      [() => linear(x, wq, null, { output: { dtype: 'int16' as never, scale: 1 } }), () => linearAsync(x, wq, null, { output: { dtype: 'int16' as never, scale: 1 } }), L],
      [() => linear(x, wq, null, { output: { dtype: 'int8', scale: -1 } }), () => linearAsync(x, wq, null, { output: { dtype: 'int8', scale: -1 } }), L],
      [() => linear(x, wq, null, { output: { dtype: 'uint8', scale: 1, zeroPoint: 300 } }), () => linearAsync(x, wq, null, { output: { dtype: 'uint8', scale: 1, zeroPoint: 300 } }), L],
      [() => linear(x, wq, null, { output: { dtype: 'int8', scale: 1 }, out: zeros([4, 3]) }), () => linearAsync(x, wq, null, { output: { dtype: 'int8', scale: 1 }, out: zeros([4, 3]) }), L],
      [() => linear(a, wq), () => linearAsync(a, wq), L],
      [() => linear(quantize(x, { axis: 1 }) as never, wq), () => linearAsync(quantize(x, { axis: 1 }) as never, wq), L],
    ];
    // The sync op has no `signal`; the async one refuses anything but an AbortSignal.
    await expect(linearAsync(x, packed, null, { signal: 5 as never })).rejects.toThrow('linearAsync: opts.signal must be an AbortSignal, got 5');
    await expect(matmulAsync(a, b, { signal: {} as never })).rejects.toThrow(TypeError);
    for (const [s, as, r] of cases) await expectSameError(s, as, r);
    expect(executorStats().busyRanges).toBe(0);
  });

  it('a row of NaN in f32 x with a requantized output rejects like quantizeDynamic, out untouched', async () => {
    const x = rand([5, 40], { seed: 1 });
    (x.data as Float32Array)[2 * 40 + 3] = NaN;
    (x.data as Float32Array)[4 * 40] = Infinity;
    const packed = packWeights(quantize(rand([30, 40], { seed: 2 }), { dtype: 'int8', scheme: 'symmetric', axis: 0 })) as PackedInt8Weights;
    const o = { output: { dtype: 'uint8' as const, scale: 0.1, zeroPoint: 7 } };
    const out = zeros([5, 30], 'uint8');
    await expectSameError(() => linear(x, packed, null, { ...o, out }), () => linearAsync(x, packed, null, { ...o, out }), null);
    await expect(linearAsync(x, packed, null, o)).rejects.toThrow('quantizeDynamic: row 2 of x contains NaN or ±Infinity (2 such rows)');
    expect((out.data as Uint8Array).every((v) => v === 0)).toBe(true);
    // The f32-output path turns such rows into NaN rows, as the sync op does.
    expectSame(await linearAsync(x, packed), linear(x, packed), 'NaN rows, f32 out');
    expect(executorStats().busyRanges).toBe(0);
  });
});

describe('half-precision async forms equal the sync ops', () => {
  for (const threads of [1, 2]) {
    it(`matmul and linear: f16/bf16 × f16/bf16, f32 × half weights (raw and packed), f32 and half outputs at ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      for (const [i, [m, k, n]] of SHAPES.entries()) {
        const a32 = rand([m, k], { seed: 700 + i });
        const w32 = rand([n, k], { seed: 800 + i });
        const bias = rand([n], { seed: 900 + i });
        for (const ht of ['float16', 'bfloat16'] as const) {
          const ah = cast(a32, ht);
          const wh = cast(w32, ht);
          const bh = cast(rand([k, n], { seed: 1000 + i }), ht);
          const packed = packWeights(wh) as PackedHalfWeights;
          for (const [j, act] of ACTS.entries()) {
            for (const outDtype of ['float32', 'float16', 'bfloat16'] as const) {
              const o = { activation: act, bias: j === 0 ? null : bias, outDtype };
              const label = `${ht} ${m}x${k}x${n} ${act} → ${outDtype} t=${threads}`;
              // half × half
              expectSame(await matmulAsync(ah, bh, o), matmul(ah, bh, o), `${label} half×half raw`);
              expectSame(await matmulAsync(ah, wh, { ...o, transB: true }), matmul(ah, wh, { ...o, transB: true }), `${label} half×half transB`);
              expectSame(await matmulAsync(ah, packed, o), matmul(ah, packed, o), `${label} half×packed`);
              // f32 activations × half weights
              expectSame(await matmulAsync(a32, bh, o), matmul(a32, bh, o), `${label} f32×half raw`);
              expectSame(await matmulAsync(a32, packed, o), matmul(a32, packed, o), `${label} f32×packed`);
              const lo = { activation: act, outDtype };
              expectSame(await linearAsync(a32, wh, bias, lo), linear(a32, wh, bias, lo), `${label} linear f32 x, half w`);
              expectSame(await linearAsync(a32, packed, bias, lo), linear(a32, packed, bias, lo), `${label} linear f32 x, packed w`);
              expectSame(await linearAsync(ah, packed, null, lo), linear(ah, packed, null, lo), `${label} linear half x, packed w`);
            }
          }
          // Half a with float32 b (the f32 product of the widened a), a half bias, and a given out.
          const b32 = rand([k, n], { seed: 1100 + i });
          expectSame(await matmulAsync(ah, b32), matmul(ah, b32), `${ht} a × f32 b ${m}x${k}x${n}`);
          const hb = cast(bias, ht);
          expectSame(await linearAsync(a32, packed, hb), linear(a32, packed, hb), `${ht} half bias`);
          const out = zeros([m, n], ht);
          expect(await linearAsync(a32, packed, bias, { out })).toBe(out);
          expectSame(out, linear(a32, packed, bias, { out: zeros([m, n], ht) }), `${ht} out`);
        }
      }
    });
  }

  it('refuse bad input with the sync ops\' errors', async () => {
    const a = rand([4, 8]);
    const ah = cast(a, 'float16');
    const bh = cast(rand([8, 3]), 'float16');
    const wh = cast(rand([3, 8]), 'bfloat16');
    const packed = packWeights(wh) as PackedHalfWeights;
    const cases: [() => unknown, () => Promise<unknown>, [string, string]][] = [
      [() => matmul(ah, cast(rand([9, 3]), 'float16')), () => matmulAsync(ah, cast(rand([9, 3]), 'float16')), M],
      [() => matmul(a, bh, { transB: true }), () => matmulAsync(a, bh, { transB: true }), M],
      [() => matmul(rand([4, 8], { dtype: 'int8' }), bh), () => matmulAsync(rand([4, 8], { dtype: 'int8' }), bh), M],
      [() => matmul(a, cast(rand([2, 8, 3]), 'float16')), () => matmulAsync(a, cast(rand([2, 8, 3]), 'float16')), M],
      [() => matmul(a, bh, { bias: rand([4]) }), () => matmulAsync(a, bh, { bias: rand([4]) }), M],
      [() => matmul(a, bh, { bias: rand([3], { dtype: 'int8' }) }), () => matmulAsync(a, bh, { bias: rand([3], { dtype: 'int8' }) }), M],
      [() => matmul(a, bh, { activation: 'tanh' as never }), () => matmulAsync(a, bh, { activation: 'tanh' as never }), M],
      [() => matmul(a, bh, { outDtype: 'int8' }), () => matmulAsync(a, bh, { outDtype: 'int8' }), M],
      [() => matmul(a, bh, { out: zeros([4, 3]), outDtype: 'float16' }), () => matmulAsync(a, bh, { out: zeros([4, 3]), outDtype: 'float16' }), M],
      [() => matmul(a, bh, { out: zeros([4, 4]) }), () => matmulAsync(a, bh, { out: zeros([4, 4]) }), M],
      [() => matmul(a, bh, { out: zeros([4, 3], 'int32') }), () => matmulAsync(a, bh, { out: zeros([4, 3], 'int32') }), M],
      [() => matmul(rand([4, 9]), packed), () => matmulAsync(rand([4, 9]), packed), M],
      [() => linear(rand([4, 7]), packed), () => linearAsync(rand([4, 7]), packed), L],
      [() => linear(rand([4, 7]), wh), () => linearAsync(rand([4, 7]), wh), L],
      [() => linear(a, cast(rand([3, 8, 1]), 'float16')), () => linearAsync(a, cast(rand([3, 8, 1]), 'float16')), L],
      [() => linear(a, wh, rand([5])), () => linearAsync(a, wh, rand([5])), L],
    ];
    for (const [s, as, r] of cases) await expectSameError(s, as, r);
    await expect(linearAsync(a, packed, null, { signal: 'x' as never })).rejects.toThrow('linearAsync: opts.signal must be an AbortSignal');
    expect(executorStats().busyRanges).toBe(0);
  });
});

describe('async int8 / half ops and the executor', () => {
  it('an aborted signal rejects with an AbortError (pre-aborted, and queued behind a long op)', async () => {
    const ac = new AbortController();
    ac.abort();
    const a8 = rand([64, 255], { dtype: 'uint8' });
    const p8 = packWeights(rand([129, 255], { dtype: 'int8' })) as PackedInt8Weights;
    const x = rand([64, 255]);
    const ph = packWeights(cast(rand([129, 255]), 'float16')) as PackedHalfWeights;
    const s = { signal: ac.signal };
    await expect(matmulAsync(a8, p8, s)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(matmulAsync(a8, rand([255, 3], { dtype: 'int8' }), s)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(linearAsync(x, p8, null, s)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(linearAsync(x, p8, null, { ...s, output: { dtype: 'int8', scale: 1 } })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(linearAsync(x, ph, null, s)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(matmulAsync(cast(x, 'bfloat16'), cast(rand([255, 9]), 'bfloat16'), s)).rejects.toMatchObject({ name: 'AbortError' });
    // One thread: a long op holds the only worker, so the int8 and half ops behind it are still queued when aborted.
    setNumThreads(1);
    try {
      const long = rand([1500, 1500], { seed: 3 });
      const first = matmulAsync(long, long);
      const ac8 = new AbortController(), ach = new AbortController();
      const out8 = zeros([64, 129]);
      const outh = zeros([64, 129], 'float16');
      const q8 = linearAsync(x, p8, null, { out: out8, signal: ac8.signal });
      const qh = linearAsync(x, ph, null, { out: outh, signal: ach.signal });
      expect(executorStats().queued).toBeGreaterThanOrEqual(2);
      ac8.abort();
      ach.abort();
      await expect(q8).rejects.toMatchObject({ name: 'AbortError' });
      await expect(qh).rejects.toMatchObject({ name: 'AbortError' });
      // Dropped before they ran: outputs untouched and free again.
      expect((out8.data as Float32Array).every((v) => v === 0)).toBe(true);
      expect((outh.data as Uint16Array).every((v) => v === 0)).toBe(true);
      expectSame(await linearAsync(x, p8, null, { out: out8 }), linear(x, p8), 'int8 after abort');
      expectSame(await linearAsync(x, ph, null, { out: outh }), linear(x, ph, null, { outDtype: 'float16' }), 'half after abort');
      await first;
    } finally {
      setNumThreads(initialThreads);
    }
    expect(executorStats().busyRanges).toBe(0);
  });

  it('a second in-flight op writing the same out is refused with ERR_SIMDTENSOR_BUSY', async () => {
    const x = rand([64, 255], { seed: 1 });
    const a8 = rand([64, 255], { dtype: 'uint8' });
    const p8 = packWeights(quantize(rand([129, 255]), { dtype: 'int8', scheme: 'symmetric', axis: 0 })) as PackedInt8Weights;
    const ph = packWeights(cast(rand([129, 255]), 'bfloat16')) as PackedHalfWeights;
    // int8 → int32
    const o32 = zeros([64, 129], 'int32');
    const first32 = matmulAsync(a8, p8, { out: o32 });
    await expect(matmulAsync(a8, rand([255, 129], { dtype: 'int8' }), { out: o32 })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    await first32;
    // int8 linear → f32 (dynamic), then → int8 (dynamic, requantized)
    const of = zeros([64, 129]);
    const firstF = linearAsync(x, p8, null, { out: of });
    await expect(linearAsync(x, p8, null, { out: of })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    // Reading the pending output is refused as well.
    await expect(linearAsync(of.rows(0, 4), packWeights(cast(rand([5, 129]), 'float16')) as PackedHalfWeights)).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    // A sync int8 op writing there is refused too.
    expect(() => linear(x, p8, null, { out: of })).toThrow(/overlaps the output \(out\) of linearAsync/);
    // A sync int8 or half op reading it (its result is not complete yet) is refused as well.
    const p8b = packWeights(quantize(rand([7, 129]), { dtype: 'int8', scheme: 'symmetric', axis: 0 })) as PackedInt8Weights;
    expect(() => linear(of, p8b)).toThrow(/linear: x overlaps the output \(out\) of linearAsync/);
    expect(() => linear(of, packWeights(cast(rand([5, 129]), 'float16')) as PackedHalfWeights)).toThrow(/matmul: a overlaps the output \(out\) of linearAsync/);
    await firstF;
    const oq = zeros([64, 129], 'int8');
    const o = { out: oq, output: { dtype: 'int8' as const, scale: 0.05 } };
    const firstQ = linearAsync(x, p8, null, o);
    await expect(linearAsync(x, p8, null, o)).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    await firstQ;
    // half → f32 and → bf16; a half op and an int8 op on one out.
    const oh = zeros([64, 129]);
    const firstH = linearAsync(x, ph, null, { out: oh });
    await expect(linearAsync(x, ph, null, { out: oh })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    await expect(linearAsync(x, p8, null, { out: oh })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    // (the half binding names its entry points matmul / matmulAsync for linear too, as the sync one does)
    expect(() => linear(x, ph, null, { out: oh })).toThrow(/overlaps the output \(out\) of matmulAsync/);
    await firstH;
    const obf = zeros([64, 129], 'bfloat16');
    const firstB = matmulAsync(cast(x, 'bfloat16'), ph, { out: obf });
    await expect(matmulAsync(x, ph, { out: obf })).rejects.toMatchObject({ code: 'ERR_SIMDTENSOR_BUSY' });
    await firstB;
    // Settled: the memory is free again and every result is right.
    expectSame(await linearAsync(x, ph, null, { out: oh }), linear(x, ph), 'half after busy');
    expectSame(of, linear(x, p8), 'int8 f32 after busy');
    expect(executorStats().busyRanges).toBe(0);
  });

  it('keep the event loop responsive while a large int8 linear (dynamic quantization included) runs', async () => {
    setNumThreads(initialThreads);
    const m = 1024, k = 2048, n = 2048; // 8.6 G int8 ops plus quantizing 2 M activations
    const x = rand([m, k], { seed: 1 });
    const packed = packWeights(quantize(rand([n, k], { seed: 2 }), { dtype: 'int8', scheme: 'symmetric', axis: 0 })) as PackedInt8Weights;
    const want = linear(x, packed);
    let done = false;
    const p = linearAsync(x, packed).then((y) => {
      done = true;
      return y;
    });
    // The event loop turns while the op is in flight. (A timer check would race the op on a loaded machine: a
    // setTimeout(0) needs ≥ 1 ms and a starved JS thread; test/executor.test.ts measures timer lag during a long op.)
    let immediateWhilePending = false;
    setImmediate(() => {
      immediateWhilePending = !done;
    });
    const y = await p;
    expect(immediateWhilePending, 'a setImmediate callback ran while the op was in flight').toBe(true);
    expectSame(y, want, 'large int8 linear');
  });

  itTiming('submitting a large int8 linear costs the JS thread a small fraction of the op [real clock]', async () => {
    setNumThreads(initialThreads);
    const m = 1024, k = 2048, n = 2048;
    const x = rand([m, k], { seed: 1 });
    const packed = packWeights(quantize(rand([n, k], { seed: 2 }), { dtype: 'int8', scheme: 'symmetric', axis: 0 })) as PackedInt8Weights;
    // The sync op first: it also does the one-off work any first call does (the panels' layout for this ISA), so the
    // submissions timed below are only what every async call costs the JS thread.
    const sync0 = performance.now();
    linear(x, packed);
    const syncMs = performance.now() - sync0;
    // Submitting does no GEMM or quantization on this thread (the op is far longer than its submission). The best
    // of three submissions: any one of them may meet a GC pause (the 8 MiB output is reported to V8 as external
    // memory, which can start a collection) or, on a loaded machine, a preemption.
    const submits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const q = linearAsync(x, packed);
      submits.push(performance.now() - t0);
      await q;
    }
    const best = Math.min(...submits);
    expect(best, `submits ${submits.map((v) => v.toFixed(2)).join(', ')} ms vs sync op ${syncMs.toFixed(1)} ms`).toBeLessThan(syncMs / 4);
  });
});
