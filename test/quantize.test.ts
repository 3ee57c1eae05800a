import { afterEach, describe, expect, it } from 'vitest';
import {
  Calibrator, compareOutputs, cpuInfo, dequantize, getMaxIsa, linear, matmul, packInt8Weights, PackedInt8Weights,
  packWeights, probeAmxInt8Peak, probeVnniPeak, quantize, quantizeDynamic, QuantizedTensor, rand, setMaxIsa, tensor,
  Tensor, zeros,
} from '../src/index.js';
import { gelu, intMatmul, randInts, roundHalfEven, skipUnsupportedIsas, supportedIsas, expectSameArray } from './helpers.js';

const best = getMaxIsa();
afterEach(() => {
  setMaxIsa(best);
});

// Independent JS oracles of the documented rules (float32 emulated with Math.fround).
function quantOracle(x: number, scale: number, zero: number, qmin: number, qmax: number): number {
  let v = Math.fround(x * Math.fround(1 / scale));
  if (Number.isNaN(v)) v = 0;
  v = Math.min(Math.max(v, qmin - zero), qmax - zero);
  return roundHalfEven(v) + zero;
}

describe('quantize / dequantize', () => {
  const specials = [0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, 127.5, -127.5, -128.5, 300, -300, NaN, Infinity, -Infinity, 1e-40, 3.4e38];

  it('follows the documented rounding rule bit for bit under every ISA cap', () => {
    const data = new Float32Array(257);
    for (let i = 0; i < data.length; i++) data[i] = i % 4 === 0 ? specials[(i / 4) % specials.length] : Math.sin(i * 12.9898) * 200;
    const x = tensor(data, [data.length]);
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      for (const [dtype, scheme, scale, zero] of [
        ['int8', 'symmetric', 1, 0], ['int8', 'asymmetric', 0.7, -5], ['uint8', 'asymmetric', 1.3, 131], ['uint8', 'symmetric', 0.37, 128],
      ] as const) {
        const q = quantize(x, { dtype, scheme, scale, zeroPoint: zero });
        const [qmin, qmax] = scheme === 'symmetric' ? (dtype === 'int8' ? [-127, 127] : [1, 255]) : dtype === 'int8' ? [-128, 127] : [0, 255];
        for (let i = 0; i < data.length; i++)
          expect(q.data.data[i], `${isa} ${dtype} ${scheme} x=${data[i]}`).toBe(quantOracle(data[i], Math.fround(scale), zero, qmin, qmax));
        const back = dequantize(q).data;
        for (let i = 0; i < data.length; i++) expect(back[i]).toBe(Math.fround((q.data.data[i] - zero) * Math.fround(scale)));
      }
    }
  });

  it('ties go to even and NaN goes to the zero point', () => {
    const q = quantize(tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, NaN]), { dtype: 'uint8', scheme: 'asymmetric', scale: 1, zeroPoint: 10 });
    expect(Array.from(q.data.data)).toEqual([10, 12, 12, 10, 8, 8, 10]);
  });

  it('per-channel along any axis matches the oracle', () => {
    const t = rand([3, 4, 5], { seed: 3, low: -4, high: 4 });
    for (const axis of [0, 1, 2, -1]) {
      for (const dtype of ['int8', 'uint8'] as const) {
        const q = quantize(t, { axis, dtype });
        const ax = (axis + 3) % 3;
        expect(q.axis).toBe(ax);
        expect(q.scale.length).toBe(t.shape[ax]);
        const [qmin, qmax] = dtype === 'int8' ? [-127, 127] : [0, 255];
        const strides = [20, 5, 1];
        for (let i = 0; i < t.size; i++) {
          const c = Math.floor(i / strides[ax]) % t.shape[ax];
          expect(q.data.data[i]).toBe(quantOracle(t.data[i] as number, q.scale[c], q.zeroPoint[c], qmin, qmax));
        }
        // min/max calibration: every value within half a step of where it came from.
        const back = dequantize(q).data;
        for (let i = 0; i < t.size; i++) {
          const c = Math.floor(i / strides[ax]) % t.shape[ax];
          expect(Math.abs(back[i] - (t.data[i] as number))).toBeLessThanOrEqual(q.scale[c] * 0.5001);
        }
      }
    }
  });

  it('chooses min/max parameters that keep 0 exact', () => {
    const t = tensor([-1, 0, 3]);
    const q = quantize(t, { dtype: 'uint8' });
    expect(q.scheme).toBe('asymmetric');
    expect(q.scale[0]).toBe(Math.fround(4 / 255));
    expect(q.zeroPoint[0]).toBe(64);
    expect(dequantize(q).data[1]).toBe(0);
    const s = quantize(tensor([-0.5, 2.54]));
    expect(s.scheme).toBe('symmetric');
    expect(s.zeroPoint[0]).toBe(0);
    expect(s.scale[0]).toBe(Math.fround(Math.fround(2.54) / 127));
    expect(Array.from(s.data.data)).toEqual([roundHalfEven(Math.fround(-0.5 * Math.fround(1 / s.scale[0]))), 127]);
    const z = quantize(zeros([4]));
    expect(z.scale[0]).toBe(1);
    expect(Array.from(z.data.data)).toEqual([0, 0, 0, 0]);
  });

  it('quantizeDynamic: every row its own range, bit for bit under every ISA cap (rows around the 64-row block, odd K)', () => {
    // The oracle: the row's min/max widened to 0 (uint8 asymmetric) or its max |x| (int8 symmetric), scale and
    // zero point in float32 as quant_choose_params computes them, then the documented rounding rule.
    const params = (row: Float32Array, dtype: 'int8' | 'uint8'): [number, number] => {
      let lo = 0, hi = 0;
      for (const v of row) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      if (dtype === 'int8') {
        const amax = Math.max(-lo, hi);
        return amax > 0 ? [Math.max(Math.fround(amax / 127), 1e-30), 0] : [1, 0];
      }
      if (!(hi > lo)) return [1, 0];
      const s = Math.max(Math.fround(Math.fround(hi - lo) / 255), Math.fround(1e-30));
      return [s, Math.min(255, Math.max(0, 0 - roundHalfEven(Math.fround(lo / s))))];
    };
    for (const [m, k] of [[1, 1], [63, 7], [64, 16], [65, 17], [130, 33], [3, 100]]) {
      const data = new Float32Array(m * k);
      for (let i = 0; i < data.length; i++) {
        const r = Math.floor(i / k);
        const u = Math.sin(i * 12.9898 + 1) * (0.5 + (r % 9) * 40);
        data[i] = r % 5 === 1 ? Math.abs(u) : r % 5 === 2 ? -Math.abs(u) : r % 5 === 3 ? 0 : u;
      }
      const x = tensor(data, [m, k]);
      for (const isa of supportedIsas()) {
        setMaxIsa(isa);
        for (const dtype of ['uint8', 'int8'] as const) {
          const q = quantizeDynamic(x, { dtype });
          const [qmin, qmax] = dtype === 'int8' ? [-127, 127] : [0, 255];
          for (let r = 0; r < m; r++) {
            const [s, z] = params(data.subarray(r * k, (r + 1) * k), dtype);
            expect(q.scale[r], `${isa} ${dtype} m=${m} k=${k} row ${r} scale`).toBe(Math.fround(s));
            expect(q.zeroPoint[r], `${isa} ${dtype} m=${m} k=${k} row ${r} zero`).toBe(z);
            for (let j = 0; j < k; j++)
              expect(q.data.data[r * k + j], `${isa} ${dtype} row ${r} x=${data[r * k + j]}`).toBe(quantOracle(data[r * k + j], Math.fround(s), z, qmin, qmax));
          }
        }
      }
    }
  });
});

describe('calibration', () => {
  // Mostly N(0,1)-like values with a few large outliers.
  function heavyTailed(n: number, seed: number): Tensor<'float32'> {
    const t = rand([n], { seed, low: -1, high: 1 });
    const d = t.data as Float32Array;
    for (let i = 0; i < n; i++) d[i] = d[i] + d[(i * 7) % n] + d[(i * 13) % n];
    d[5] = 40;
    d[n - 3] = -35;
    return t;
  }

  it('minmax calibrator over batches equals min/max of all data', () => {
    const c = new Calibrator();
    const a = rand([100], { seed: 1, low: -2, high: 1 }), b = rand([50], { seed: 2, low: -1, high: 5 });
    c.observe(a).observe(b);
    const { min, max } = c.range();
    const all = [...(a.data as Float32Array), ...(b.data as Float32Array)];
    expect(min[0]).toBe(Math.min(...all));
    expect(max[0]).toBe(Math.max(...all));
    expect(c.count).toBe(2);
    const p = c.params({ dtype: 'uint8' });
    const q = quantize(a, { dtype: 'uint8', calibration: c });
    expect(q.scale[0]).toBe(p.scale[0]);
    expect(q.zeroPoint[0]).toBe(p.zeroPoint[0]);
  });

  it('percentile clips outliers; mse lowers the error on heavy-tailed data', () => {
    const t = heavyTailed(20000, 7);
    const mm = quantize(t, { calibration: 'minmax' });
    const pc = quantize(t, { calibration: 'percentile', percentile: 99.9 });
    const ms = quantize(t, { calibration: 'mse' });
    // The 99.9th percentile of |x| (the histogram spans [-40, 40] in 2048 bins).
    const abs = Array.from(t.data as Float32Array, Math.abs).sort((a, b) => a - b);
    const p999 = abs[Math.floor(0.999 * abs.length)];
    expect(Math.abs(pc.scale[0] * 127 - p999)).toBeLessThan((2 * 80) / 2048);
    expect(pc.scale[0]).toBeLessThan(mm.scale[0] / 1.5);
    expect(ms.scale[0]).toBeLessThan(mm.scale[0]);
    const err = (q: QuantizedTensor) => compareOutputs(t, q).rmse;
    expect(err(ms)).toBeLessThan(err(mm));
    expect(err(ms)).toBeLessThanOrEqual(err(pc) * 1.05);
  });

  it('histogram calibrators accumulate across batches (range doubling is exact re-binning)', () => {
    const t = heavyTailed(8000, 9);
    const whole = new Calibrator({ method: 'percentile', percentile: 99 }).observe(t);
    const split = new Calibrator({ method: 'percentile', percentile: 99 });
    // Small-range batch first, so the histogram must grow when the outliers arrive.
    split.observe(t.rows(100, 4000)).observe(t.rows(0, 100)).observe(t.rows(4000, 8000));
    const a = whole.range().max[0], b = split.range().max[0];
    expect(Math.abs(a - b)).toBeLessThan(0.05 * a);
  });

  it('per-channel calibrators and methods', () => {
    const t = rand([4, 300], { seed: 5, low: -1, high: 1 });
    (t.data as Float32Array)[299] = 9; // an outlier in channel 0
    const mm = quantize(t, { axis: 0, calibration: 'minmax' });
    const pc = quantize(t, { axis: 0, calibration: 'percentile', percentile: 99 });
    expect(pc.scale[0]).toBeLessThan(mm.scale[0] / 2);
    expect(Math.abs(pc.scale[1] - mm.scale[1])).toBeLessThan(0.1 * mm.scale[1]);
    const c = new Calibrator({ axis: 1 }).observe(t);
    expect(c.range().min.length).toBe(300);
  });

  it('rejects bad input with clear errors', () => {
    expect(() => quantize(tensor([1, NaN]))).toThrow(/quantize: t contains NaN/);
    expect(() => quantize(tensor([1, Infinity]))).toThrow(/quantize: t contains ±Infinity/);
    expect(() => new Calibrator({ method: 'median' as never })).toThrow(/Calibrator: method must be/);
    expect(() => new Calibrator({ percentile: 20 })).toThrow(RangeError);
    expect(() => new Calibrator({ bins: 7 })).toThrow(/bins must be an even integer/);
    expect(() => new Calibrator().range()).toThrow(/no batch observed/);
    expect(() => new Calibrator({ method: 'mse', axis: 1 }).observe(rand([3, 4]))).toThrow(/needs contiguous channels/);
    expect(() => quantize(rand([2, 3]), { calibration: new Calibrator() })).toThrow(/observed no batch/);
  });
});

describe('QuantizedTensor and quantize options: errors', () => {
  it('validates data, parameters and axis', () => {
    const d = tensor(new Int8Array(6), [2, 3], 'int8');
    expect(() => new QuantizedTensor(tensor([1, 2]), 1)).toThrow(/QuantizedTensor: data.dtype must be int8 or uint8, got float32/);
    expect(() => new QuantizedTensor(d, [1, 2, 3], 0, 0)).toThrow(/scale has 3 values, needs 2 \(data.shape\[0\] \(axis 0\)\)/);
    expect(() => new QuantizedTensor(d, [1, 1, 1], [0, 0], 1)).toThrow(/zeroPoint has 2 values, needs 3/);
    expect(() => new QuantizedTensor(d, 0)).toThrow(/scale\[0\] must be positive and finite, got 0/);
    expect(() => new QuantizedTensor(d, 1, 200)).toThrow(/zeroPoint\[0\] \(200\) is outside the int8 range \[-128, 127\]/);
    expect(() => new QuantizedTensor(d, 1, 0, 2)).toThrow(/axis must be an integer in \[-2, 1\]/);
    expect(() => quantize(tensor(new Int8Array(3), [3], 'int8'))).toThrow(/quantize: t.dtype must be float32, got int8/);
    expect(() => quantize(rand([2, 3]), { dtype: 'int4' as never })).toThrow(/dtype must be 'int8' or 'uint8'/);
    expect(() => quantize(rand([2, 3]), { scale: [1, 2], axis: 1 })).toThrow(/scale has 2 values, needs 1 or 3/);
    expect(() => quantize(rand([2, 3]), { scale: 1, zeroPoint: 300, dtype: 'uint8' })).toThrow(/zeroPoint\[0\] \(300\) is outside the uint8 asymmetric range/);
    expect(() => quantize(rand([2, 3]), { zeroPoint: 3 })).toThrow(/zeroPoint needs scale/);
    expect(() => dequantize(rand([2]) as never)).toThrow(/dequantize: q must be a QuantizedTensor/);
  });
});

describe('int8 matmul (exact int32)', () => {
  it('is bit-exact for every signedness, around tile edges, under every ISA cap', () => {
    const shapes = [[1, 1, 1], [1, 7, 33], [3, 4, 16], [5, 63, 47], [9, 65, 49], [17, 131, 97], [1, 1024, 3]];
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      let seed = 1;
      for (const [m, k, n] of shapes)
        for (const ad of ['int8', 'uint8'] as const)
          for (const bd of ['int8', 'uint8'] as const) {
            const transB = seed % 2 === 0;
            const a = randInts(m * k, ad, seed++), b = randInts(k * n, bd, seed++);
            const c = matmul(tensor(a, [m, k], ad), tensor(b, transB ? [n, k] : [k, n], bd), { transB });
            expect(c.dtype).toBe('int32');
            expect(c.shape).toEqual([m, n]);
            const want = intMatmul(a, m, k, b, n, transB);
            expectSameArray(c.data as Int32Array, want, { label: `${isa} ${ad}x${bd} ${m}x${k}x${n}` });
          }
    }
  });

  it('handles extreme values exactly (int16 saturation of vpmaddubsw must not show)', () => {
    const m = 3, k = 1000, n = 20;
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const a = new Uint8Array(m * k).fill(255), b = new Int8Array(k * n).fill(127);
      for (let i = 0; i < b.length; i += 3) b[i] = -128;
      const c = matmul(tensor(a, [m, k], 'uint8'), tensor(b, [k, n], 'int8'));
      expect(Array.from(c.data as Int32Array), isa).toEqual(Array.from(intMatmul(a, m, k, b, n, false)));
    }
  });

  it('accepts packed weights and rejects bad input', () => {
    const a = tensor(randInts(6 * 10, 'int8', 3), [6, 10], 'int8');
    const b = tensor(randInts(10 * 4, 'int8', 4), [10, 4], 'int8');
    const p = packWeights(b, { layout: 'kn' }) as PackedInt8Weights;
    expect(p).toBeInstanceOf(PackedInt8Weights);
    expect(Array.from(matmul(a, p).data as Int32Array)).toEqual(Array.from(matmul(a, b).data as Int32Array));
    expect(() => matmul(a, tensor(randInts(9 * 4, 'int8', 5), [9, 4], 'int8'))).toThrow(/matmul: a.shape\[1\] \(10\) must equal b.shape\[0\] \(9\)/);
    expect(() => matmul(a, b, { bias: zeros([4]) })).toThrow(/bias needs a float output/);
    expect(() => matmul(a, b, { activation: 'relu' })).toThrow(/activation needs a float output/);
    expect(() => matmul(a, b, { out: zeros([6, 4]) })).toThrow(/out.dtype must be int32, got float32/);
    expect(() => matmul(a, rand([10, 4]))).toThrow(TypeError);
  });
});

describe('int8 linear', () => {
  const K = 96, N = 40, M = 7;
  const w = rand([N, K], { seed: 11, low: -0.5, high: 0.5 });
  const x = rand([M, K], { seed: 12, low: -2, high: 2 });
  const bias = rand([N], { seed: 13, low: -1, high: 1 });

  it('static-quantized x equals the integer oracle, dequantized (all ISA caps agree bit for bit)', () => {
    const qw = quantize(w, { axis: 0 });
    const qx = quantize(x, { dtype: 'uint8' });
    const acc = intMatmul(Array.from(qx.data.data, (v) => v - qx.zeroPoint[0]), M, K, qw.data.data, N, true);
    let first: Float32Array | null = null;
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      for (const act of ['none', 'relu', 'gelu'] as const) {
        const y = linear(qx, qw, bias, { activation: act }).data as Float32Array;
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            const s = Math.fround(qx.scale[0] * qw.scale[j]);
            let v = Math.fround(acc[i * N + j] * s + (bias.data[j] as number));
            v = act === 'relu' ? Math.max(v, 0) : act === 'gelu' ? gelu(v) : v;
            expect(Math.abs(y[i * N + j] - v), `${isa} ${act} (${i},${j})`).toBeLessThanOrEqual(1e-6 * Math.abs(v) + 2e-6);
          }
        if (act === 'none') {
          if (first) expect(Array.from(y), isa).toEqual(Array.from(first));
          else first = y.slice();
        }
      }
    }
  });

  it('dynamic quantization: linear(x, q) equals linear(quantizeDynamic(x), q) and tracks float32', () => {
    const qw = quantize(w, { axis: 0 });
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const y = linear(x, qw, bias, { activation: 'relu' });
      const y2 = linear(quantizeDynamic(x), qw, bias, { activation: 'relu' });
      expect(Array.from(y.data as Float32Array), isa).toEqual(Array.from(y2.data as Float32Array));
      const cmp = compareOutputs(linear(x, w, bias, { activation: 'relu' }), y);
      expect(cmp.cosineSimilarity, isa).toBeGreaterThan(0.999);
      expect(cmp.maxAbsError, isa).toBeLessThan(0.1);
    }
  });

  it('packed weights, 3-D x, out tensors and requantized outputs', () => {
    const qw = quantize(w, { axis: 0 });
    const p = packWeights(qw) as PackedInt8Weights;
    expect(p.k).toBe(K);
    expect(p.n).toBe(N);
    expect(p.bytes).toBeGreaterThanOrEqual(K * N);
    const x3 = x.reshape([1, M, K]);
    const y = linear(x3, p, bias);
    expect(y.shape).toEqual([1, M, N]);
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(linear(x, qw, bias).data as Float32Array));
    const out = zeros([M, N]);
    expect(linear(x, p, bias, { out }).data).toBe(out.data);
    const yq = linear(x, p, bias, { output: { dtype: 'int8', scale: 0.05, zeroPoint: 3 } } as never) as unknown as QuantizedTensor;
    expect(yq).toBeInstanceOf(QuantizedTensor);
    const ref = quantize(linear(x, p, bias), { dtype: 'int8', scheme: 'asymmetric', scale: 0.05, zeroPoint: 3 });
    expect(Array.from(yq.data.data)).toEqual(Array.from(ref.data.data));
  });

  it('uint8 asymmetric weights and int8 activations (every zero-point correction term)', () => {
    const qw = quantize(w, { dtype: 'uint8', axis: 0 });
    const qx = quantize(x, { dtype: 'int8', scheme: 'asymmetric' });
    const acc = intMatmul(Array.from(qx.data.data, (v) => v - qx.zeroPoint[0]), M, K,
      Array.from(qw.data.data, (v, i) => v - qw.zeroPoint[Math.floor(i / K)]), N, true);
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const y = linear(qx, qw).data as Float32Array;
      for (let i = 0; i < M * N; i++)
        expect(y[i], isa).toBe(Math.fround(Math.fround(acc[i]) * Math.fround(qx.scale[0] * qw.scale[i % N])));
    }
  });

  it('rejects bad input with clear errors', () => {
    const qw = quantize(w, { axis: 0 });
    expect(() => linear(rand([M, K + 1]), qw)).toThrow(/linear: x.shape\[1\] \(97\) must equal the weight's in features \(96\)/);
    expect(() => linear(tensor(new Int8Array(M * K), [M, K], 'int8'), qw)).toThrow(/x.dtype must be float32 .*got int8/);
    expect(() => linear(x, qw, rand([N + 1]))).toThrow(/bias has 41 elements/);
    expect(() => linear(x, qw, null, { activation: 'tanh' as never })).toThrow(/activation must be/);
    expect(() => linear(x, quantize(w, { axis: 1 }))).toThrow(/per-channel weights must have axis 0/);
    expect(() => linear(x, qw, null, { output: { dtype: 'int8', scale: -1 } } as never)).toThrow(/output.scale must be a positive finite number/);
    expect(() => linear(x, qw, null, { output: { dtype: 'uint8', scale: 1, zeroPoint: -1 } } as never)).toThrow(/output.zeroPoint must be an integer in \[0, 255\]/);
    expect(() => linear(x, qw, null, { out: zeros([M, N], 'int32') })).toThrow(/out.dtype must be float32, got int32/);
    expect(() => quantizeDynamic(tensor([1, NaN, 2, 3], [2, 2]))).toThrow(/quantizeDynamic: row 0 of x contains NaN or ±Infinity/);
    expect(() => packInt8Weights(rand([3, 3]))).toThrow(/w.dtype must be int8 or uint8/);
  });

  it('NaN in a row of x gives that row NaN', () => {
    const qw = quantize(w, { axis: 0 });
    const xn = x.clone();
    (xn.data as Float32Array)[K + 3] = NaN;
    const y = linear(xn, qw).data as Float32Array;
    for (let j = 0; j < N; j++) {
      expect(Number.isNaN(y[N + j])).toBe(true);
      expect(Number.isNaN(y[j])).toBe(false);
    }
  });
});

describe('compareOutputs', () => {
  it('reports errors, cosine and top-1 agreement', () => {
    const ref = tensor([1, 2, 3, 4, 3, 2], [2, 3]);
    const test = tensor([1, 3.5, 3, 4.5, 3, 2], [2, 3]); // row 0's argmax moves from 2 to 1; row 1's stays at 0
    const r = compareOutputs(ref, test);
    expect(r.count).toBe(6);
    expect(r.maxAbsError).toBeCloseTo(1.5);
    expect(r.meanAbsError).toBeCloseTo(2 / 6);
    expect(r.meanError).toBeCloseTo(2 / 6);
    expect(r.maxRelError).toBeCloseTo(0.75);
    expect(r.top1Agreement).toBe(0.5);
    expect(r.cosineSimilarity).toBeCloseTo(48 / Math.sqrt(43 * 55.5), 12);
    expect(r.rmse).toBeCloseTo(Math.sqrt((1.5 ** 2 + 0.5 ** 2) / 6), 12);
    expect(compareOutputs(ref, ref).cosineSimilarity).toBeCloseTo(1, 12);
    expect(() => compareOutputs(ref, tensor([1, 2]))).toThrow(/compareOutputs: ref has 6 elements/);
  });
});

describe('kernels, probes and ISA reporting', () => {
  // The int8 tests walk every runnable cap inside each test; the levels this CPU lacks are listed as skipped here.
  skipUnsupportedIsas('int8 GEMM, quantize and dequantize variants');
  it('cpuInfo lists the int8 kernel and it follows the ISA cap', () => {
    const names = new Set<string>();
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const k = cpuInfo().kernels['matmul.s8'];
      expect(k).toMatch(/^s8_gemm_/);
      names.add(k);
    }
    expect(names.size).toBeGreaterThan(1);
  });

  it('peak probes report GOP/s (AMX is null without AMX)', () => {
    const v = probeVnniPeak(20);
    const info = cpuInfo();
    if (info.flags['avx512vnni'] || info.flags['avxvnni'] || info.flags['neonDot']) {
      expect(v).not.toBeNull();
      expect(v!.gops).toBeGreaterThan(1);
      expect(v!.kernel).toMatch(/^s8_probe__/);
    }
    const a = probeAmxInt8Peak(20);
    if (info.flags['amxPermitted'] && info.flags['amx-int8']) expect(a!.gops).toBeGreaterThan(1);
    else {
      expect(a).toBeNull();
      console.log('int8 tests: AMX-INT8 probe SKIPPED (no AMX on this CPU)');
    }
  });
});
