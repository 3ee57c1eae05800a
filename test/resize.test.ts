import { afterEach, describe, expect, it } from 'vitest';
import { cpuInfo, getMaxIsa, rand, resize, resizeAsync, setMaxIsa, zeros } from '../src/index.js';
import { supportedIsas } from './helpers.js';
import { Img, ortRun, refResize, toNchw, worst } from './conv-ref.js';
import { OnnxType } from '../bench/onnx.js';

const best = getMaxIsa();
afterEach(() => setMaxIsa(best));

// Nearest copies exactly; bilinear blends in float against double.
const TOL = 2e-6;
const COORDS = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'] as const;
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

describe('resize against a JS reference', () => {
  for (const isa of supportedIsas())
    it(`${isa}: nearest/bilinear, every coordinate and nearest mode, sizes and scales, both layouts`, () => {
      setMaxIsa(isa);
      expect(cpuInfo().kernels.resize).toMatch(/^f32_resize__/);
      let seed = 1, k = 0;
      for (const c of [1, 3, 7, 17, 33, 65])
        for (const [h, w, oh, ow] of [[3, 5, 7, 9], [7, 7, 3, 2], [4, 4, 8, 8], [5, 3, 1, 1], [1, 1, 3, 2]])
          for (const mode of ['nearest', 'bilinear'] as const)
            for (const coord of COORDS) {
              const nearest = NEAREST[k++ % 4];
              const nhwc = k % 2 === 0;
              const x = rand(nhwc ? [2, h, w, c] : [2, c, h, w], { seed: seed++, low: -3, high: 3 });
              const layout = nhwc ? ('nhwc' as const) : ('nchw' as const);
              const d: Img = { n: 2, c, h, w, nhwc };
              const y = resize(x, { sizes: [oh, ow], mode, coordinateTransformationMode: coord, nearestMode: nearest, layout });
              expect(y.shape).toEqual(nhwc ? [2, oh, ow, c] : [2, c, oh, ow]);
              const want = refResize(x.data, d, oh, ow, null, null, mode === 'bilinear', coord, nearest);
              const r = worst(y.data, want);
              if (r.err > TOL) throw new Error(`${mode} ${coord} ${nearest} c=${c} ${h}x${w}->${oh}x${ow} nhwc=${nhwc}: [${r.i}] ${y.data[r.i]} vs ${want[r.i]}`);
              // Scales: output floor(in · scale), and the coordinate transform divides by the given scale.
              const soh = Math.floor(h * 1.5), sow = Math.floor(w * 0.75);
              if (sow >= 1) {
                const ys = resize(x, { scales: [1.5, 0.75], mode, coordinateTransformationMode: coord, nearestMode: nearest, layout });
                const ws = refResize(x.data, d, soh, sow, 1.5, 0.75, mode === 'bilinear', coord, nearest);
                expect(worst(ys.data, ws).err).toBeLessThan(TOL);
              }
            }
    });

  it('4-D sizes/scales in the tensor layout, out tensor, async', async () => {
    const x = rand([1, 6, 5, 3], { seed: 2 });
    const a = resize(x, { sizes: [1, 12, 10, 3], mode: 'linear', layout: 'nhwc' });
    const b = resize(x, { scales: [1, 2, 2, 1], mode: 'linear', layout: 'nhwc', out: zeros([1, 12, 10, 3]) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const c = await resizeAsync(x, { sizes: [12, 10], mode: 'bilinear', layout: 'nhwc' });
    expect(Array.from(c.data)).toEqual(Array.from(a.data));
  });

  it('bad input: TypeError/RangeError naming the argument', async () => {
    const x = rand([1, 3, 4, 4]);
    expect(() => resize(x, {})).toThrow(/resize: give exactly one of opts.sizes and opts.scales/);
    expect(() => resize(x, { sizes: [2, 2], scales: [2, 2] })).toThrow(/exactly one/);
    expect(() => resize(x, { sizes: [0, 2] })).toThrow(/sizes \(output height\) must be a positive integer/);
    expect(() => resize(x, { scales: [2, -1] })).toThrow(/scales \(width\) must be a positive finite number/);
    expect(() => resize(x, { scales: [0.1, 1] })).toThrow(/give an output of 0×4/);
    expect(() => resize(x, { sizes: [2, 3, 8, 8] })).toThrow(/may only resize H and W/);
    expect(() => resize(x, { sizes: [2] })).toThrow(/array of 2/);
    expect(() => resize(x, { sizes: [8, 8], mode: 'cubic' as never })).toThrow(/mode must be/);
    expect(() => resize(x, { sizes: [8, 8], coordinateTransformationMode: 'tf_crop_and_resize' as never })).toThrow(/coordinateTransformationMode must be one of/);
    expect(() => resize(x, { sizes: [8, 8], nearestMode: 'round' as never })).toThrow(/nearestMode must be one of/);
    expect(() => resize(x, { sizes: [8, 8], out: zeros([1, 3, 8, 7]) })).toThrow(/out has shape/);
    await expect(resizeAsync(x, { sizes: [8, 8], mode: 'x' as never })).rejects.toThrow(TypeError);
  });
});

describe('resize against onnxruntime-node Resize', () => {
  const dims = [1, 3, 5, 7];
  for (const mode of ['nearest', 'linear'] as const)
    for (const coord of COORDS) {
      if (mode === 'linear' && coord === 'tf_half_pixel_for_nn') continue;
      for (const nearest of mode === 'nearest' ? NEAREST : (['round_prefer_floor'] as const))
        for (const how of ['sizes', 'scales'] as const)
          it(`${mode} ${coord} ${nearest} by ${how}`, async () => {
            const x = rand(dims, { seed: 5, low: -2, high: 2 });
            const sizes = [1, 3, 9, 4];
            const scales = [1, 1, 2, 0.6];
            const init = how === 'sizes'
              ? { name: 'sizes', type: OnnxType.INT64, dims: [4], data: BigInt64Array.from(sizes.map(BigInt)) }
              : { name: 'scales', type: OnnxType.FLOAT, dims: [4], data: Float32Array.from(scales) };
            const want = await ortRun(
              { op: 'Resize', inputs: how === 'sizes' ? ['x', '', '', 'sizes'] : ['x', '', 'scales'], outputs: ['y'], attrs: { mode: { str: mode }, coordinate_transformation_mode: { str: coord }, nearest_mode: { str: nearest } } },
              x.data as Float32Array,
              dims,
              [init],
            );
            const opts = { mode, coordinateTransformationMode: coord, nearestMode: nearest, ...(how === 'sizes' ? { sizes } : { scales }) };
            const y = resize(x, opts);
            expect(y.size).toBe(want.length);
            const r = worst(y.data, want);
            expect(r.err, `at ${r.i}: ${y.data[r.i]} vs ${want[r.i]}`).toBeLessThan(TOL);
            // NHWC gives the same numbers.
            const xh = rand([1, 5, 7, 3], { seed: 6 });
            const yh = resize(xh, { ...opts, layout: 'nhwc', ...(how === 'sizes' ? { sizes: [9, 4] } : { scales: [2, 0.6] }) });
            const yn = resize(rand([1, 3, 5, 7], { seed: 1 }).reshape([1, 3, 5, 7]), { ...opts, sizes: undefined, scales: undefined, ...(how === 'sizes' ? { sizes: [9, 4] } : { scales: [2, 0.6] }) });
            expect(yn.size).toBe(yh.size);
            const xn = toNchw(xh.data, 1, 5, 7, 3);
            const ref = resize(new (x.constructor as never as { new (...a: unknown[]): typeof x })(xn, [1, 3, 5, 7], 'float32', xn.length), { ...opts, sizes: undefined, scales: undefined, ...(how === 'sizes' ? { sizes: [9, 4] } : { scales: [2, 0.6] }) });
            expect(worst(toNchw(yh.data, 1, yh.shape[1], yh.shape[2], 3), ref.data).err).toBe(0);
          });
    }
});
