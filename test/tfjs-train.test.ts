// Training through the 'simdtensor' TF.js backend: a small tfjs-layers MLP trained with model.fit on the bundled UCI
// digits reaches the test accuracy the 'cpu' backend reaches, and so does a small conv / depthwise CNN, with the
// backward kernels (matmul transposes, Conv2DBackpropFilter / Input, the depthwise gradients) native.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const root = join(import.meta.dirname, '..');

function digits(): { x: Float32Array; y: Int32Array; n: number } {
  const rows = gunzipSync(readFileSync(join(root, 'data', 'digits.csv.gz'))).toString('utf8').trim().split('\n');
  const n = rows.length;
  const x = new Float32Array(n * 64), y = new Int32Array(n);
  rows.forEach((r, i) => {
    const v = r.split(',').map(Number);
    for (let j = 0; j < 64; j++) x[i * 64 + j] = v[j] / 16;
    y[i] = v[64];
  });
  return { x, y, n };
}

/** A dense MLP on the 64 pixels. */
const mlp = () =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [64], units: 64, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });

/** A small CNN on the 8×8 images: conv 3×3 → depthwise 3×3 stride 2 (multiplier 2) → dense. */
const cnn = () =>
  tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, activation: 'relu', depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
    ],
  });

async function trainAndScore(backend: string, d: ReturnType<typeof digits>, make = mlp, image = false, epochs = 12): Promise<number> {
  await tf.setBackend(backend);
  const nTrain = 1400;
  const model = make();
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const shape = (n: number) => (image ? [n, 8, 8, 1] : [n, 64]);
  const xs = tf.tensor(d.x.subarray(0, nTrain * 64), shape(nTrain));
  const ys = tf.tensor1d(Float32Array.from(d.y.subarray(0, nTrain)));
  await model.fit(xs, ys, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
  const xt = tf.tensor(d.x.subarray(nTrain * 64), shape(d.n - nTrain));
  const pred = tf.argMax(model.predict(xt) as tf.Tensor, -1).dataSync();
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === d.y[nTrain + i]) ok++;
  tf.dispose([xs, ys, xt]);
  model.dispose();
  return ok / pred.length;
}

describe('tfjs-layers training on the simdtensor backend', () => {
  it('model.fit on digits reaches the CPU backend accuracy', async () => {
    const mod = await import('simdtensor/tfjs');
    const d = digits();
    const before = mod.kernelStats()._FusedMatMul?.native ?? 0;
    const ours = await trainAndScore('simdtensor', d);
    const used = (mod.kernelStats()._FusedMatMul?.native ?? 0) + (mod.kernelStats().BatchMatMul?.native ?? 0) - before;
    const cpu = await trainAndScore('cpu', d);
    console.log(`digits test accuracy (last ${d.n - 1400} rows): simdtensor ${ours.toFixed(3)}, cpu ${cpu.toFixed(3)}`);
    expect(cpu).toBeGreaterThan(0.85);
    expect(ours).toBeGreaterThan(cpu - 0.02);
    expect(used).toBeGreaterThan(0);
    // The weight gradients xᵀ·dy (BatchMatMul with transposeA) ran natively, none declined.
    expect(mod.kernelStats().BatchMatMul.fallback).toBe(0);
  }, 120_000);

  it('model.fit of a conv / depthwise CNN on digits reaches the CPU backend accuracy, with native backward kernels', async () => {
    const mod = await import('simdtensor/tfjs');
    const d = digits();
    const names = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'BatchMatMul'];
    const stat = () => names.map((k) => mod.kernelStats()[k] ?? { native: 0, fallback: 0 });
    const before = stat();
    const t0 = performance.now();
    const ours = await trainAndScore('simdtensor', d, cnn, true, 6);
    const t1 = performance.now();
    const after = stat();
    const cpu = await trainAndScore('cpu', d, cnn, true, 6);
    const t2 = performance.now();
    // Times are information only (no assertion): the machine may be loaded.
    console.log(`digits CNN test accuracy: simdtensor ${ours.toFixed(3)} (${((t1 - t0) / 1000).toFixed(1)} s), cpu ${cpu.toFixed(3)} (${((t2 - t1) / 1000).toFixed(1)} s)`);
    expect(cpu).toBeGreaterThan(0.85);
    expect(ours).toBeGreaterThan(cpu - 0.02);
    names.forEach((k, i) => {
      expect(after[i].native, k).toBeGreaterThan(before[i].native);
      expect(after[i].fallback, k).toBe(before[i].fallback);
    });
  }, 180_000);
});
