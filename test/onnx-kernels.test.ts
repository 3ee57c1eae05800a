import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { getMaxIsa, setMaxIsa } from '../src/index.js';
import { dynamicQuantParams, quantizeU8 } from '../src/onnx/ops/quant.js';
import { erf } from '../src/onnx/ops/elementwise.js';
import { transposeInto } from '../src/onnx/ops/shape.js';
import { mk, numel, strides, type ODType } from '../src/onnx/value.js';
import { randArr } from './onnx-build.js';
import { expectSameArray } from './helpers.js';

describe('native DynamicQuantizeLinear equals the scalar reference bit for bit', () => {
  const cases: [string, Float32Array][] = [
    ['random', randArr(1027, 1, 3)],
    ['all positive', Float32Array.from(randArr(64, 2), (v) => v + 2)],
    ['all negative', Float32Array.from(randArr(65, 3), (v) => v - 2)],
    ['zeros', new Float32Array(17)],
    ['empty', new Float32Array(0)],
    ['one element', Float32Array.of(-0.75)],
    // Exact ties: multiples of scale/2 (scale = 510/255 = 2 here), and huge values that saturate.
    ['ties', Float32Array.from({ length: 511 }, (_, i) => i - 255)],
    ['saturating', Float32Array.of(-1e30, 1e30, 0, 3.5, -2.5)],
  ];
  for (const [name, x] of cases) for (const isa of ['best', 'scalar']) {
    it(`${name} (${isa})`, () => {
      const best = getMaxIsa();
      if (isa === 'scalar') setMaxIsa('scalar');
      try {
        const [scale, zp] = dynamicQuantParams(x);
        const want = new Uint8Array(x.length);
        quantizeU8(x, want, scale, zp);
        const got = new Uint8Array(x.length + 3).fill(7);
        const params = new Float32Array(2);
        native.onnxDynamicQuantize(x, got.subarray(0, x.length), params);
        expect(params[0]).toBe(Math.fround(scale));
        expect(params[1]).toBe(zp);
        expectSameArray(got.subarray(0, x.length), want);
        expect(Array.from(got.subarray(x.length))).toEqual([7, 7, 7]); // nothing written past the end
      } finally {
        setMaxIsa(best);
      }
    });
  }
  it('NaN elements do not poison the range and quantize to 0', () => {
    const x = Float32Array.of(1, NaN, -1);
    const out = new Uint8Array(3);
    const params = new Float32Array(2);
    native.onnxDynamicQuantize(x, out, params);
    expect(params[0]).toBe(Math.fround(2 / 255));
    expect(out[1]).toBe(0);
  });
});

function refTranspose(data: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const os = perm.map((p) => shape[p]);
  const xs = strides(shape);
  const out: number[] = [];
  const n = numel(os);
  const ostr = strides(os);
  for (let o = 0; o < n; o++) {
    let rem = o, p = 0;
    for (let d = 0; d < os.length; d++) {
      const c = Math.floor(rem / ostr[d]);
      rem -= c * ostr[d];
      p += c * xs[perm[d]];
    }
    out.push(data[p]);
  }
  return out;
}

function perms(n: number): number[][] {
  if (n === 1) return [[0]];
  return perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('Transpose (native for 4-byte types, TypeScript otherwise) against an index-math reference', () => {
  const shapes = [[3, 1, 5], [2, 7, 9], [1, 1, 1], [4, 0, 3], [2, 3, 4, 5], [3, 2, 33, 2]];
  for (const dtype of ['float32', 'int32', 'uint8', 'float64'] as ODType[]) {
    it(dtype, () => {
      for (const shape of shapes)
        for (const perm of perms(shape.length)) {
          const x = mk(dtype, shape);
          for (let i = 0; i < x.size; i++) x.data[i] = (i * 7) % 251;
          const out = mk(dtype, perm.map((p) => shape[p]));
          transposeInto(x, perm, out);
          expect(Array.from(out.data as ArrayLike<number>), `[${shape}] perm [${perm}]`).toEqual(refTranspose(x.data as ArrayLike<number>, shape, perm));
        }
    });
  }
});

describe('the standalone Erf', () => {
  it('is within 2e-7 of erf by numerical integration (Simpson, 4000 intervals) over [-4, 4]', () => {
    const simpson = (x: number) => {
      const n = 4000, h = x / n;
      let s = 1 + Math.exp(-x * x);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return (s * h) / 3 * (2 / Math.sqrt(Math.PI));
    };
    for (let x = -4; x <= 4; x += 0.0625) expect(Math.abs(erf(x) - simpson(x)), `x=${x}`).toBeLessThan(2e-7);
    expect(erf(0)).toBe(0);
  });
});
