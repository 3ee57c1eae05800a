// int8 mode of the 'simdtensor' TF.js backend: conv and dense weights quantized per channel, activations per call;
// results near float32, the float32 path back when the mode is off, and non-finite inputs left to float32.
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';

const net = (x: tf.Tensor4D) =>
  tf.tidy(() => {
    const w1 = tf.randomUniform([3, 3, 5, 16], -0.5, 0.5, 'float32', 21);
    const b1 = tf.randomUniform([16], -0.2, 0.2, 'float32', 22);
    const w2 = tf.randomUniform([1, 1, 16, 24], -0.5, 0.5, 'float32', 23);
    const fc = tf.randomUniform([24, 40], -0.5, 0.5, 'float32', 24);
    let y = tf.fused.conv2d({ x, filter: w1, strides: 2, pad: 'same', bias: b1, activation: 'relu6' });
    y = tf.fused.conv2d({ x: y, filter: w2, strides: 1, pad: 'valid', activation: 'relu' });
    return tf.fused.matMul({ a: tf.mean(y, [1, 2]) as tf.Tensor2D, b: fc, activation: 'relu' });
  });

async function outputs(backend: string, xv?: Float32Array): Promise<Float32Array> {
  await tf.setBackend(backend);
  const x = xv ? tf.tensor4d(xv, [3, 15, 13, 5]) : tf.randomUniform([3, 15, 13, 5], -1, 1, 'float32', 20);
  const y = net(x as tf.Tensor4D);
  const v = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  return v;
}

describe('simdtensor/tfjs int8 mode', () => {
  afterEach(async () => (await import('simdtensor/tfjs')).setInt8Mode(false));

  it('runs conv and dense weights in int8 close to float32, and float32 again when turned off', async () => {
    const mod = await import('simdtensor/tfjs');
    const ref = await outputs('cpu');
    const f32 = await outputs('simdtensor');
    mod.setInt8Mode(true);
    expect(mod.getInt8Mode()).toBe(true);
    const q = await outputs('simdtensor');
    mod.setInt8Mode(false);
    const back = await outputs('simdtensor');
    let range = 0, errQ = 0, errF = 0, errBack = 0;
    for (let i = 0; i < ref.length; i++) {
      range = Math.max(range, Math.abs(ref[i]));
      errQ = Math.max(errQ, Math.abs(q[i] - ref[i]));
      errF = Math.max(errF, Math.abs(f32[i] - ref[i]));
      errBack = Math.max(errBack, Math.abs(back[i] - f32[i]));
    }
    // int8 differs from float32 (it is not the float path), but by a few per cent of the output range at most.
    expect(errQ).toBeGreaterThan(errF);
    expect(errQ / range).toBeLessThan(0.05);
    expect(errF / range).toBeLessThan(1e-5);
    expect(errBack).toBe(0);
  });

  it('leaves inputs holding NaN or Infinity to the float32 kernels (same answer as the CPU backend)', async () => {
    const mod = await import('simdtensor/tfjs');
    const xv = tf.randomUniform([3, 15, 13, 5], -1, 1, 'float32', 20).dataSync() as Float32Array;
    xv[7] = NaN;
    xv[500] = Infinity;
    const ref = await outputs('cpu', xv);
    mod.setInt8Mode(true);
    const q = await outputs('simdtensor', xv);
    for (let i = 0; i < ref.length; i++) {
      if (Number.isNaN(ref[i])) expect(q[i]).toBeNaN();
      else expect(Math.abs(q[i] - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i])));
    }
  });

  it('rejects a non-boolean mode', async () => {
    const mod = await import('simdtensor/tfjs');
    expect(() => mod.setInt8Mode(1 as unknown as boolean)).toThrow(TypeError);
  });
});
