// The small-M int8 path (M <= 4: the s8_gemv_* kernels over the GEMM's panels, and dynamic quantization fused into
// the driver) against integer oracles, around the panel and k-group edges, under every ISA cap.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuInfo, getMaxIsa, getNumThreads, linear, matmul, quantize, quantizeDynamic, rand, resetStats, setMaxIsa, setMonitoring, setNumThreads, stats, tensor } from '../src/index.js';
import { intMatmul, randInts, supportedIsas, expectSameArray } from './helpers.js';

const best = getMaxIsa();
afterEach(() => {
  setMaxIsa(best);
});

// N around the panel widths (8, 16, 32) and K around the k-group (4) and the unrolled step (16 bytes).
const NS = [1, 15, 33, 70];
const KS = [1, 6, 17, 64, 130];

describe('int8 at small M (M = 1..17: the small-M kernels at 1..4, the GEMM above)', () => {
  it('matmul of integer tensors is bit-exact at every M up to 17, under every ISA cap', () => {
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      let seed = 100;
      for (let m = 1; m <= 17; m++)
        for (const [k, n] of [[KS[m % KS.length], NS[m % NS.length]], [KS[(m + 2) % KS.length], NS[(m + 1) % NS.length]]]) {
          const ad = seed % 2 ? 'int8' : 'uint8', bd = seed % 3 ? 'int8' : 'uint8';
          const a = randInts(m * k, ad, seed++), b = randInts(n * k, bd, seed++);
          const c = matmul(tensor(a, [m, k], ad), tensor(b, [n, k], bd), { transB: true });
          expectSameArray(c.data as Int32Array, intMatmul(a, m, k, b, n, true), { label: `${isa} ${ad}x${bd} ${m}x${k}x${n}` });
        }
    }
  });

  it('dynamic-quantized linear equals the integer oracle of its own row quantization (symmetric and zero-point weights)', () => {
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      for (const wdt of ['int8', 'uint8'] as const)
        for (let m = 1; m <= 17; m++) {
          const k = KS[m % KS.length], n = NS[(m + (wdt === 'int8' ? 0 : 1)) % NS.length];
          const w = rand([n, k], { seed: 7 * m + k, low: -0.5, high: 0.5 });
          const x = rand([m, k], { seed: 11 * m + n, low: -2, high: 3 });
          const qw = quantize(w, { dtype: wdt, axis: 0 });
          const qx = quantizeDynamic(x);
          const xs = qx.scale as Float32Array, xz = qx.zeroPoint as Int32Array;
          const ws = qw.scale as Float32Array, wz = qw.zeroPoint as Int32Array;
          const acc = intMatmul(Array.from(qx.data.data, (v, i) => v - xz[Math.floor(i / k)]), m, k,
            Array.from(qw.data.data, (v, i) => v - wz[Math.floor(i / k)]), n, true);
          const y = linear(x, qw).data as Float32Array;
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++)
              expect(y[i * n + j], `${isa} ${wdt} ${m}x${k}x${n} (${i},${j})`).toBe(Math.fround(Math.fround(acc[i * n + j]) * Math.fround(xs[i] * ws[j])));
        }
    }
  });

  it('bias, relu and a NaN row through the fused front end', () => {
    const m = 5, k = 37, n = 41;
    const w = quantize(rand([n, k], { seed: 3, low: -1, high: 1 }), { axis: 0 });
    const x = rand([m, k], { seed: 4, low: -1, high: 1 });
    (x.data as Float32Array)[2 * k + 5] = NaN;
    const bias = rand([n], { seed: 5 });
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const y = linear(x, w, bias, { activation: 'relu' }).data as Float32Array;
      const ref = linear(x, w, null).data as Float32Array;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          if (i === 2) {
            expect(Number.isNaN(y[i * n + j]), `${isa} NaN row`).toBe(true);
            continue;
          }
          const want = Math.max(0, ref[i * n + j] + (bias.data[j] as number));
          expect(Math.abs(y[i * n + j] - want), `${isa} (${i},${j})`).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-6);
        }
    }
  });

  it('cpuInfo names the small-M kernel, which follows the cap', () => {
    for (const isa of supportedIsas()) {
      setMaxIsa(isa);
      const k = cpuInfo().kernels;
      expect(k['linear.int8.smallM'], isa).toMatch(/^s8_(gemv|gemm)_/);
      expect(k['matmul.s8.smallM'], isa).toBe(k['linear.int8.smallM']);
      expect(k['linear.int8'], isa).toBe(k['matmul.s8']);
    }
    setMaxIsa('scalar');
    expect(cpuInfo().kernels['linear.int8.smallM']).toBe('s8_gemv_4x8c4__scalar');
  });

  it('splits the panels over threads with the same bits (M = 1..4, enough work for several tasks)', () => {
    const k = 2050, n = 1030; // 2·M·N·K > 4e6 at M = 1: the driver splits N
    const w = quantize(rand([n, k], { seed: 8, low: -1, high: 1 }), { axis: 0 });
    const threads = getNumThreads();
    try {
      for (const m of [1, 3, 4]) {
        const x = rand([m, k], { seed: 9 + m });
        setNumThreads(1);
        const one = Array.from(linear(x, w).data as Float32Array);
        setNumThreads(3);
        expectSameArray(linear(x, w).data as Float32Array, one, { label: `m=${m}` });
      }
    } finally {
      setNumThreads(threads);
    }
  });

  it('the monitor records the kernel that ran: the small-M one at M <= 4, the GEMM above', () => {
    const w = quantize(rand([40, 24], { seed: 1 }), { axis: 0 });
    const k = cpuInfo().kernels;
    resetStats();
    setMonitoring(true);
    try {
      linear(rand([2, 24], { seed: 2 }), w);
      linear(rand([9, 24], { seed: 3 }), w);
      const names = stats().ops.filter((o) => o.op === 'linear').map((o) => o.kernel);
      expect(names).toContain(k['linear.int8.smallM']);
      expect(names).toContain(k['linear.int8']);
    } finally {
      setMonitoring(false);
      resetStats();
    }
  });
});
