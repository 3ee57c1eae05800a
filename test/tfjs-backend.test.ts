// The `simdtensor/tfjs` subpath: registration through the user's tfjs-core (ESM and CJS), priority, fallback.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { expectSameArray } from './helpers.js';

describe('simdtensor/tfjs', () => {
  it('registers the backend above cpu and wasm, and tf.ready() picks it', async () => {
    const mod = await import('simdtensor/tfjs');
    await tf.ready();
    expect(tf.getBackend()).toBe('simdtensor');
    expect(mod.registration.name).toBe('simdtensor');
    // Every CPU kernel, plus the compiled-model kernel of optimizeLayersModel (src/tfjs/plan.ts).
    expect(mod.registration.fallbackKernels.length + mod.registration.nativeKernels.length).toBe(tf.getKernelsForBackend('cpu').length + 1);
    expect(mod.registration.nativeKernels).toContain('SimdtensorLayersModel');
  });

  it('is the same registration from CommonJS', async () => {
    const esm = await import('simdtensor/tfjs');
    const cjs = createRequire(import.meta.url)('simdtensor/tfjs');
    expect(cjs.registration).toBe(esm.registration);
  });

  it('runs a kernel it has no native form of through the CPU backend', async () => {
    await import('simdtensor/tfjs');
    await tf.setBackend('simdtensor');
    const y = tf.cumsum(tf.tensor1d([1, 2, 3, 4]));
    expect(Array.from(y.dataSync())).toEqual([1, 3, 6, 10]);
  });
});

describe('simdtensor/tfjs kernels and buffers', () => {
  async function onBackend<T>(name: string, f: () => T): Promise<T> {
    await tf.setBackend(name);
    return f();
  }

  it('runs fused conv, depthwise and matmul natively and matches the CPU backend', async () => {
    const mod = await import('simdtensor/tfjs');
    const before = mod.kernelStats();
    const seed = 7;
    const model = () =>
      tf.tidy(() => {
        const x = tf.randomUniform([2, 17, 19, 5], -1, 1, 'float32', seed);
        const w = tf.randomUniform([3, 3, 5, 12], -1, 1, 'float32', seed + 1);
        const b = tf.randomUniform([12], -1, 1, 'float32', seed + 2);
        const dw = tf.randomUniform([3, 3, 12, 2], -1, 1, 'float32', seed + 3);
        const fc = tf.randomUniform([24, 40], -1, 1, 'float32', seed + 4);
        let y = tf.fused.conv2d({ x, filter: w, strides: 2, pad: 'same', bias: b, activation: 'relu6' });
        y = tf.depthwiseConv2d(y, dw, 1, 'valid');
        const pooled = tf.mean(y, [1, 2]);
        return tf.fused.matMul({ a: pooled, b: fc, bias: tf.ones([40]), activation: 'leakyrelu', leakyreluAlpha: 0.1 });
      });
    const ours = await onBackend('simdtensor', () => model().dataSync());
    const ref = await onBackend('cpu', () => model().dataSync());
    expect(ours.length).toBe(80);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - ref[i])).toBeLessThan(1e-4);
    const after = mod.kernelStats();
    for (const k of ['FusedConv2D', 'DepthwiseConv2dNative', 'Mean', '_FusedMatMul']) expect(after[k].native, k).toBeGreaterThan(before[k].native);
  });

  it('reuses a freed output buffer, but never one a view or a read-out still sees', async () => {
    const mod = await import('simdtensor/tfjs');
    await tf.setBackend('simdtensor');
    const x = tf.randomUniform([64, 1024], -1, 1, 'float32', 3); // 256 KiB: tracked
    // A read-out array stays intact after its tensor is freed and outputs of its size are made again.
    const r = tf.relu(x);
    const read = r.dataSync();
    const copy = read.slice();
    r.dispose();
    // A contiguous Slice (CPU kernel) is a subarray of its input: it pins the input's buffer.
    const r2 = tf.relu(x);
    const s = tf.slice(r2, [3, 0], [1, 1024]);
    const sCopy = s.dataSync().slice();
    r2.dispose();
    // A tiny slice at the very start of an output (16 floats: the size V8 keeps on its heap) pins it as well.
    const r3 = tf.relu(x);
    const t = tf.slice(r3, [0, 0], [1, 16]);
    const tCopy = (await t.data()).slice();
    r3.dispose();
    // A whole-tensor Slice (tfjs-layers' predict slices its batch) shares the data: freeing either keeps the other.
    const r4 = tf.relu(x);
    const r4Copy = r4.dataSync().slice();
    const w = tf.slice(r4, [0, 0], [64, 1024]);
    r4.dispose();
    const slices = mod.kernelStats().Slice;
    expect(slices.native).toBeGreaterThan(0);
    const h0 = mod.recycleStats().hits;
    for (let i = 0; i < 4; i++) tf.tidy(() => tf.relu(tf.relu(tf.neg(x))).dispose());
    expect(mod.recycleStats().hits).toBeGreaterThan(h0); // the tidy's intermediates were reused
    expectSameArray(read, copy);
    expectSameArray(s.dataSync(), sCopy);
    expect(Array.from(t.dataSync())).toEqual(Array.from(tCopy));
    expectSameArray(w.dataSync(), r4Copy);
    tf.dispose([x, s, t, w]);
  });

  it('keeps a conv call planned under its attrs object only while input shape, filter and bias match', async () => {
    await import('simdtensor/tfjs');
    await tf.setBackend('simdtensor');
    // optimizeLayersModel's layers pass one attrs object on every call; the backend reuses the validated call then.
    const ref = (x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, depthwise: boolean) =>
      (depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d)({ x, filter, bias, strides: 2, pad: [[0, 0], [1, 0], [0, 1], [0, 0]], activation: 'relu6' }).dataSync();
    for (const depthwise of [false, true]) {
      const attrs = { strides: [2, 2], pad: [[0, 0], [1, 0], [0, 1], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1], activation: 'relu6' };
      const kernel = depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D';
      const f1 = tf.randomNormal([3, 3, 6, depthwise ? 1 : 5], 0, 1, 'float32', 1) as tf.Tensor4D;
      const f2 = tf.randomNormal([3, 3, 6, depthwise ? 1 : 5], 0, 1, 'float32', 2) as tf.Tensor4D;
      const b1 = tf.randomNormal([depthwise ? 6 : 5], 0, 1, 'float32', 3) as tf.Tensor1D;
      const b2 = tf.randomNormal([depthwise ? 6 : 5], 0, 1, 'float32', 4) as tf.Tensor1D;
      const x1 = tf.randomNormal([1, 9, 8, 6], 0, 2, 'float32', 5) as tf.Tensor4D;
      const x2 = tf.randomNormal([2, 7, 10, 6], 0, 2, 'float32', 6) as tf.Tensor4D;
      for (const [x, f, b] of [[x1, f1, b1], [x1, f1, b1], [x2, f1, b1], [x2, f2, b1], [x2, f2, b2], [x1, f1, b1]] as const) {
        const y = tf.engine().runKernel(kernel, { x, filter: f, bias: b }, attrs as never) as tf.Tensor;
        const want = ref(x, f, b, depthwise);
        const got = y.dataSync();
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
      }
    }
  });

  it('runs Prelu natively (scalar and per-channel alpha, infinities, NaN) like the CPU kernel', async () => {
    const mod = await import('simdtensor/tfjs');
    const before = mod.kernelStats().Prelu?.native ?? 0;
    const special = [Infinity, -Infinity, NaN, 0, -0, 3.5, -2.25];
    const cases: [number[], number[]][] = [
      [[3, 5, 7], [7]],
      [[2, 4, 4, 3], [1, 1, 3]],
      [[70, 33], [33]],
      [[5, 9], []],
    ];
    for (const [xs, as] of cases) {
      const res: Float32Array[] = [];
      for (const name of ['simdtensor', 'cpu']) {
        await tf.setBackend(name);
        const xv = tf.randomUniform(xs, -3, 3, 'float32', 9).dataSync().slice();
        xv.set(special.slice(0, Math.min(special.length, xv.length)));
        const x = tf.tensor(xv, xs);
        const alpha = tf.randomUniform(as, -0.5, 1.5, 'float32', 10);
        const y = tf.prelu(x, alpha);
        res.push(y.dataSync() as Float32Array);
        tf.dispose([x, alpha, y]);
      }
      expect(res[0].length).toBe(res[1].length);
      for (let i = 0; i < res[0].length; i++) {
        const a = res[0][i], b = res[1][i];
        if (!Number.isFinite(b)) expect(a, `${xs} ${i}`).toBe(b); // NaN, ±Infinity exactly
        else expect(Math.abs(a - b), `${xs} ${i}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b)));
      }
    }
    expect(mod.kernelStats().Prelu.native).toBe(before + cases.length);
  });
});
