import { afterEach, describe, expect, it } from 'vitest';
import { add, cpuInfo, gelu, getMaxIsa, layerNorm, logSoftmax, mul, rand, relu, setMaxIsa, softmax, sub, tensor, zeros } from '../src/index.js';
import { compiledIsas, gelu as refGelu, itIsa } from './helpers.js';

const best = getMaxIsa();
afterEach(() => {
  setMaxIsa(best);
});

// exp/erf polynomials: a few ulp relative, 1.5e-7 absolute for erf.
const ABS = 2e-6;
const REL = 4e-6;
function close(got: number, want: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= ABS + REL * Math.abs(want);
}
function check(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  for (let i = 0; i < want.length; i++) if (!close(got[i], want[i])) throw new Error(`${what}[${i}]: got ${got[i]} want ${want[i]}`);
}

const LENS = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 255, 1023];

describe('elementwise on every ISA this CPU has', () => {
  for (const isa of compiledIsas()) {
    itIsa(isa)(`${isa}: add/sub/mul, broadcast, relu, gelu, softmax, logSoftmax, layerNorm`, () => {
      setMaxIsa(isa);
      expect(cpuInfo().kernels.softmax).toMatch(/f32_eltwise__/);
      for (const n of LENS) {
        const a = rand([3, n], { seed: n, low: -6, high: 6 });
        const b = rand([3, n], { seed: n + 1 });
        const row = rand([n], { seed: n + 2 });
        const A = a.data, B = b.data, Rw = row.data;
        check(add(a, b).data, Array.from(A, (v, i) => Math.fround(v + B[i])), `add ${n}`);
        check(sub(a, b).data, Array.from(A, (v, i) => Math.fround(v - B[i])), `sub ${n}`);
        check(mul(a, row).data, Array.from(A, (v, i) => Math.fround(v * Rw[i % n])), `mul row ${n}`);
        check(add(a, 2).data, Array.from(A, (v) => Math.fround(v + 2)), `add scalar ${n}`);
        check(relu(a).data, Array.from(A, (v) => Math.max(v, 0)), `relu ${n}`);
        check(gelu(a).data, Array.from(A, refGelu), `gelu ${n}`);
        const sm = softmax(a).data;
        const lsm = logSoftmax(a).data;
        const ln = layerNorm(a, row, b.rows(0, 1).reshape([n])).data;
        for (let r = 0; r < 3; r++) {
          const xs = Array.from(A.subarray(r * n, (r + 1) * n));
          const mx = Math.max(...xs);
          const s = xs.reduce((p, v) => p + Math.exp(v - mx), 0);
          check(sm.subarray(r * n, (r + 1) * n), xs.map((v) => Math.exp(v - mx) / s), `softmax ${n}`);
          check(lsm.subarray(r * n, (r + 1) * n), xs.map((v) => v - mx - Math.log(s)), `logSoftmax ${n}`);
          const mean = xs.reduce((p, v) => p + v, 0) / n;
          const v = xs.reduce((p, x) => p + (x - mean) ** 2, 0) / n;
          const want = xs.map((x, i) => ((x - mean) / Math.sqrt(v + 1e-5)) * Rw[i] + b.data[i]);
          const got = ln.subarray(r * n, (r + 1) * n);
          for (let i = 0; i < n; i++) if (Math.abs(got[i] - want[i]) > 2e-5 * (1 + Math.abs(want[i]))) throw new Error(`layerNorm ${n}[${i}]`);
        }
      }
    });
  }
  it('special values: NaN, ±Inf, -0, subnormals', () => {
    const x = tensor([NaN, Infinity, -Infinity, -0, 1e-40, 3], [6]);
    const r = relu(x).data;
    expect(Number.isNaN(r[0])).toBe(true);
    expect(r[1]).toBe(Infinity);
    expect(r[2]).toBe(0);
    const g = gelu(x).data;
    expect(Number.isNaN(g[0])).toBe(true);
    expect(g[1]).toBe(Infinity);
    const s = softmax(tensor([1, NaN, 2], [1, 3])).data;
    expect(Array.from(s).every(Number.isNaN)).toBe(true);
    const big = softmax(tensor([1000, 1000], [1, 2])).data;
    expect(Array.from(big)).toEqual([0.5, 0.5]);
  });
  it('bad input is rejected with named arguments', () => {
    expect(() => add(rand([2, 3]), rand([3, 2]))).toThrow('add: b shape [3, 2] must equal a\'s [2, 3] or be a row of 3 (broadcast over rows)');
    expect(() => relu(zeros([2], 'int8'))).toThrow('relu: x.dtype must be float32, got int8');
    expect(() => softmax(rand([2, 2]), { out: zeros([3]) })).toThrow('softmax: out has shape [3], needs [2, 2]');
    expect(() => layerNorm(rand([2, 4]), rand([3]))).toThrow("layerNorm: gamma has 3 elements, needs 4 (x's last dimension)");
    expect(() => layerNorm(rand([2, 4]), null, null, { eps: -1 })).toThrow(RangeError);
  });
  it('out may alias the input', () => {
    const x = tensor([-1, 2, -3], [3]);
    const y = relu(x, { out: x });
    expect(y).toBe(x);
    expect(Array.from(x.data)).toEqual([0, 2, 0]);
  });
});
