// Training through the 'simdtensor' TF.js backend: a small tfjs-layers MLP trained with model.fit on the bundled UCI
// digits reaches the test accuracy the 'cpu' backend reaches (forward kernels native, backward ones on the CPU
// backend's kernels where ours decline, e.g. BatchMatMul with transposeA).
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

async function trainAndScore(backend: string, d: ReturnType<typeof digits>): Promise<number> {
  await tf.setBackend(backend);
  const nTrain = 1400;
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [64], units: 64, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor2d(d.x.subarray(0, nTrain * 64), [nTrain, 64]);
  const ys = tf.tensor1d(Float32Array.from(d.y.subarray(0, nTrain)));
  await model.fit(xs, ys, { epochs: 12, batchSize: 64, shuffle: false, verbose: 0 });
  const xt = tf.tensor2d(d.x.subarray(nTrain * 64), [d.n - nTrain, 64]);
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
  }, 120_000);
});
