import { afterEach, describe, expect, it } from 'vitest';
import { cpuInfo, getMaxIsa, getNumThreads, nchwToNhwc, nchwToNhwcAsync, nhwcToNchw, nhwcToNchwAsync, rand, setMaxIsa, setNumThreads, tensor, zeros } from '../src/index.js';
import { supportedIsas } from './helpers.js';

const best = getMaxIsa();
const threads = getNumThreads();
afterEach(() => {
  setMaxIsa(best);
  setNumThreads(threads);
});

/** Plain index loop: [N, C, H, W] → [N, H, W, C]. */
function refToNhwc(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < h * w; p++) y[(b * h * w + p) * c + k] = x[(b * c + k) * h * w + p];
  return y;
}
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ia = new Uint32Array(a.buffer, a.byteOffset, a.length), ib = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ia.length === ib.length && ia.every((v, i) => v === ib[i]);
}

// Channel and pixel counts around the 4/8/16-wide register tiles and the 64-row/column pool blocks.
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [1, 3, 224, 7], [2, 7, 5, 3], [1, 15, 4, 4], [3, 16, 4, 4], [1, 17, 9, 13], [2, 33, 7, 7], [1, 63, 3, 5],
  [1, 65, 17, 1], [1, 144, 28, 28], [2, 5, 129, 131],
];

describe('nchwToNhwc / nhwcToNchw', () => {
  for (const isa of supportedIsas())
    it(`${isa}: matches the index loop and round-trips bit for bit, odd shapes`, () => {
      setMaxIsa(isa);
      expect(cpuInfo().kernels.nchwToNhwc).toMatch(/^f32_transpose_/);
      let seed = 1;
      for (const [n, c, h, w] of SHAPES) {
        const x = rand([n, c, h, w], { seed: seed++ });
        (x.data as Float32Array)[x.size - 1] = NaN;
        const y = nchwToNhwc(x);
        expect(y.shape).toEqual([n, h, w, c]);
        expect(sameBits(y.data as Float32Array, refToNhwc(x.data as Float32Array, n, c, h, w)), `${isa} [${n}, ${c}, ${h}, ${w}]`).toBe(true);
        const back = nhwcToNchw(y);
        expect(back.shape).toEqual([n, c, h, w]);
        expect(sameBits(back.data as Float32Array, x.data as Float32Array), `${isa} back [${n}, ${c}, ${h}, ${w}]`).toBe(true);
      }
    });

  it('1 thread = 3 threads = async, into out', async () => {
    const x = rand([2, 96, 56, 57], { seed: 9 });
    setNumThreads(1);
    const one = nchwToNhwc(x);
    setNumThreads(3);
    const three = nchwToNhwc(x);
    expect(sameBits(one.data as Float32Array, three.data as Float32Array)).toBe(true);
    const out = zeros([2, 56, 57, 96]);
    const a = await nchwToNhwcAsync(x, { out });
    expect(a).toBe(out);
    expect(sameBits(out.data as Float32Array, one.data as Float32Array)).toBe(true);
    const b = await nhwcToNchwAsync(out);
    expect(sameBits(b.data as Float32Array, x.data as Float32Array)).toBe(true);
  });

  it('bad input: RangeError / TypeError naming the argument', () => {
    expect(() => nchwToNhwc(tensor(new Float32Array(6), [2, 3]))).toThrow(/nchwToNhwc: x must be 4-D \[N, C, H, W\], got shape \[2, 3\]/);
    expect(() => nhwcToNchw(tensor(new Float32Array(6), [1, 2, 3]))).toThrow(RangeError);
    expect(() => nchwToNhwc(rand([1, 2, 3, 4]), { out: zeros([1, 2, 3, 4]) })).toThrow(/out has shape \[1, 2, 3, 4\], needs \[1, 3, 4, 2\]/);
    expect(() => nchwToNhwc(tensor(new Int32Array(24), [1, 2, 3, 4]) as never)).toThrow(TypeError);
    expect(() => nchwToNhwc(null as never)).toThrow(TypeError);
    expect(() => nchwToNhwc(rand([1, 2, 2, 2]), 3 as never)).toThrow(/opts must be an object/);
    // null / undefined options mean no options.
    expect(nchwToNhwc(rand([1, 2, 3, 4]), null).shape).toEqual([1, 3, 4, 2]);
    expect(nhwcToNchw(rand([1, 3, 4, 2]), undefined).shape).toEqual([1, 2, 3, 4]);
    const x = rand([1, 2, 2, 2]);
    expect(() => nchwToNhwc(x, { out: x })).toThrow(/out must not overlap x/);
  });
});
