// The native gradient kernels of the 'simdtensor' TF.js backend (Conv2DBackpropFilter, the depthwise filter / input
// gradients, BatchMatMul with transposeA) against the CPU backend's kernels on odd shapes, strides and paddings.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

type Attrs = Record<string, unknown>;
const TOL = 1e-4; // relative to the largest |value| of the reference

/** Runs `kernel` on both backends with seeded inputs of `shapes` and returns [ours, cpu]. */
async function both(kernel: string, shapes: Record<string, number[]>, attrs: Attrs): Promise<[Float32Array, Float32Array, number[]]> {
  const res: Float32Array[] = [];
  let shape: number[] = [];
  for (const name of ['simdtensor', 'cpu']) {
    await tf.setBackend(name);
    const inputs: Record<string, tf.Tensor> = {};
    let seed = 11;
    for (const [k, s] of Object.entries(shapes)) inputs[k] = tf.randomUniform(s, -1, 1, 'float32', seed++);
    const y = tf.engine().runKernel(kernel, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    res.push(y.dataSync() as Float32Array);
    shape = y.shape;
    tf.dispose([y, ...Object.values(inputs)]);
  }
  return [res[0], res[1], shape];
}

function expectClose(ours: Float32Array, ref: Float32Array, what: string): void {
  expect(ours.length, what).toBe(ref.length);
  let scale = 1e-6, worst = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
  expect(worst / scale, what).toBeLessThan(TOL);
}

async function nativeCalls(kernel: string): Promise<number> {
  const mod = await import('simdtensor/tfjs');
  return mod.kernelStats()[kernel]?.native ?? 0;
}

describe('simdtensor/tfjs gradient kernels', () => {
  const geoms: { x: number[]; f: [number, number]; strides: number | [number, number]; pad: unknown; dimRoundingMode?: string }[] = [
    { x: [2, 9, 11, 3], f: [3, 2], strides: [2, 1], pad: 'same' },
    { x: [1, 8, 8, 5], f: [3, 3], strides: 2, pad: 'same' },
    { x: [3, 7, 10, 4], f: [3, 3], strides: 1, pad: 'valid' },
    { x: [2, 10, 9, 2], f: [4, 3], strides: [3, 2], pad: 'valid' },
    { x: [1, 6, 7, 3], f: [2, 2], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { x: [2, 5, 5, 7], f: [1, 1], strides: 1, pad: 'valid' },
    { x: [2, 6, 6, 6], f: [1, 1], strides: 2, pad: 'same' },
  ];

  it('Conv2DBackpropFilter matches the CPU kernel (NHWC, strides, SAME / VALID / explicit pads, 1×1)', async () => {
    const before = await nativeCalls('Conv2DBackpropFilter');
    for (const g of geoms) {
      const co = 6;
      const filterShape = [g.f[0], g.f[1], g.x[3], co];
      await tf.setBackend('cpu');
      const info = tf.backend_util.computeConv2DInfo(g.x as [number, number, number, number], filterShape as [number, number, number, number], g.strides, 1, g.pad as 'same');
      const [ours, ref, shape] = await both('Conv2DBackpropFilter', { x: g.x, dy: info.outShape }, { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', filterShape });
      expect(shape).toEqual(filterShape);
      expectClose(ours, ref, JSON.stringify(g));
    }
    expect(await nativeCalls('Conv2DBackpropFilter')).toBe(before + geoms.length);
  });

  it('Conv2DBackpropFilter accumulates over im2col slices (a ragged last slice included)', async () => {
    const { gradLimits } = await import('../src/tfjs/grad.js'); // process-wide object: the backend's copy reads it too
    const saved = gradLimits.im2colSliceFloats;
    try {
      for (const g of geoms.slice(0, 4)) {
        const filterShape = [g.f[0], g.f[1], g.x[3], 5];
        gradLimits.im2colSliceFloats = 7 * filterShape[0] * filterShape[1] * filterShape[2]; // 7 output pixels a slice
        await tf.setBackend('cpu');
        const info = tf.backend_util.computeConv2DInfo(g.x as [number, number, number, number], filterShape as [number, number, number, number], g.strides, 1, g.pad as 'same');
        expect(info.batchSize * info.outHeight * info.outWidth % 7).not.toBe(0);
        const [ours, ref] = await both('Conv2DBackpropFilter', { x: g.x, dy: info.outShape }, { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', filterShape });
        expectClose(ours, ref, `sliced ${JSON.stringify(g)}`);
      }
    } finally {
      gradLimits.im2colSliceFloats = saved;
    }
  });

  it('DepthwiseConv2dNativeBackpropFilter / Input match the CPU kernels (channel multipliers 1 and 3)', async () => {
    const bf = await nativeCalls('DepthwiseConv2dNativeBackpropFilter'), bi = await nativeCalls('DepthwiseConv2dNativeBackpropInput');
    let n = 0;
    for (const g of geoms)
      for (const mult of [1, 3]) {
        const filterShape = [g.f[0], g.f[1], g.x[3], mult];
        await tf.setBackend('cpu');
        const info = tf.backend_util.computeConv2DInfo(g.x as [number, number, number, number], filterShape as [number, number, number, number], g.strides, 1, g.pad as 'same', undefined, true);
        const attrs = { strides: g.strides, dilations: 1, pad: g.pad, filterShape, inputShape: g.x };
        const [of, rf, sf] = await both('DepthwiseConv2dNativeBackpropFilter', { x: g.x, dy: info.outShape }, attrs);
        expect(sf).toEqual(filterShape);
        expectClose(of, rf, `filter ${JSON.stringify(g)} ×${mult}`);
        const [oi, ri, si] = await both('DepthwiseConv2dNativeBackpropInput', { dy: info.outShape, filter: filterShape }, attrs);
        expect(si).toEqual(g.x);
        expectClose(oi, ri, `input ${JSON.stringify(g)} ×${mult}`);
        n++;
      }
    expect(await nativeCalls('DepthwiseConv2dNativeBackpropFilter')).toBe(bf + n);
    expect(await nativeCalls('DepthwiseConv2dNativeBackpropInput')).toBe(bi + n);
  });

  it('BatchMatMul with transposeA (and both transposes, batch broadcasting) matches the CPU kernel', async () => {
    const before = await nativeCalls('BatchMatMul');
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 19], [37, 23], true, false],
      [[3, 40, 17], [3, 40, 9], true, false],
      [[1, 33, 21], [4, 18, 33], true, true],
      [[65, 5], [65, 66], true, false],
    ];
    for (const [sa, sb, transposeA, transposeB] of cases) {
      const [ours, ref] = await both('BatchMatMul', { a: sa, b: sb }, { transposeA, transposeB });
      expectClose(ours, ref, `${sa} ${sb} ${transposeA} ${transposeB}`);
    }
    expect(await nativeCalls('BatchMatMul')).toBe(before + cases.length);
  });

  it('tf.grads of a conv → depthwise → dense network equal the CPU backend, all on native kernels', async () => {
    const run = async (name: string) => {
      await tf.setBackend(name);
      return tf.tidy(() => {
        const x = tf.randomUniform([4, 11, 10, 4], -1, 1, 'float32', 3);
        const w1 = tf.randomUniform([3, 3, 4, 8], -1, 1, 'float32', 4);
        const w2 = tf.randomUniform([3, 3, 8, 2], -1, 1, 'float32', 5);
        const w3 = tf.randomUniform([16, 40], -1, 1, 'float32', 6);
        const f = (x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor) => {
          let y = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'));
          y = tf.depthwiseConv2d(y as tf.Tensor4D, w2 as tf.Tensor4D, 1, 'valid');
          return tf.sum(tf.square(tf.matMul(tf.mean(y, [1, 2]) as tf.Tensor2D, w3 as tf.Tensor2D)));
        };
        return tf.grads(f)([x, w1, w2, w3]).map((g) => g.dataSync() as Float32Array);
      });
    };
    const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'BatchMatMul'];
    const before = await Promise.all(names.map(nativeCalls));
    const ours = await run('simdtensor');
    const after = await Promise.all(names.map(nativeCalls));
    const ref = await run('cpu');
    ours.forEach((g, i) => expectClose(g, ref[i], `grad ${i}`));
    names.forEach((k, i) => expect(after[i], k).toBeGreaterThan(before[i]));
  });
});
