// optimizeLayersModel: batch norms, relu / relu6 and zero paddings folded into the convs of a tfjs-layers model
// give the unfolded model's predictions, and the folded kernels no longer run.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** ZeroPadding2D → Conv2D(s2, valid) → BN → ReLU(6) → DepthwiseConv2D(×2) → BN → relu → Conv2D 1×1 → BN → add(bn, relu(bn)). */
function build(seed: number): tfl.LayersModel {
  const r = rng(seed);
  const input = tfl.input({ shape: [9, 11, 5] });
  let x = tfl.layers.zeroPadding2d({ padding: [[0, 1], [1, 0]] }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid' }).apply(x) as tfl.SymbolicTensor;
  const bns: tfl.layers.Layer[] = [];
  const bn = () => {
    const l = tfl.layers.batchNormalization({ epsilon: 1e-3 });
    bns.push(l);
    return l;
  };
  x = bn().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false }).apply(x) as tfl.SymbolicTensor;
  x = bn().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 6, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
  const b3 = bn().apply(x) as tfl.SymbolicTensor; // two consumers: its relu is not fused
  const out = tfl.layers.add().apply([b3, tfl.layers.reLU().apply(b3) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  for (const l of model.layers) {
    const ws = l.getWeights();
    if (ws.length === 0) continue;
    l.setWeights(
      ws.map((w, i) => {
        const v = Float32Array.from({ length: w.size }, () => r());
        if (bns.includes(l)) {
          if (i === 0) v.forEach((_, j) => (v[j] = 0.5 + Math.abs(v[j]))); // gamma
          if (i === 3) v.forEach((_, j) => (v[j] = 0.1 + 2 * Math.abs(v[j]))); // variance
        }
        return tf.tensor(v, w.shape);
      }),
    );
  }
  return model;
}

/**
 * conv(s2) → BN → relu6 → [expand 1×1 → BN → relu6 → depthwise → BN → relu6 → project 1×1 → BN] + skip → global
 * average pool → flatten → dropout → dense relu → dense softmax: MobileNetV2's shape in small.
 */
function build2(seed: number): tfl.LayersModel {
  const r = rng(seed);
  const input = tfl.input({ shape: [10, 12, 3] });
  const cbr = (t: tfl.SymbolicTensor, conv: tfl.layers.Layer, act: boolean) => {
    let y = tfl.layers.batchNormalization().apply(conv.apply(t)) as tfl.SymbolicTensor;
    if (act) y = tfl.layers.reLU({ maxValue: 6 }).apply(y) as tfl.SymbolicTensor;
    return y;
  };
  const stem = cbr(input, tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), true);
  let y = cbr(stem, tfl.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false }), true);
  y = cbr(y, tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }), true);
  y = cbr(y, tfl.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }), false);
  y = tfl.layers.add().apply([stem, y]) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dropout({ rate: 0.5 }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 12, activation: 'relu' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 4, activation: 'softmax' }).apply(y) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: y });
  for (const l of model.layers) {
    const ws = l.getWeights();
    if (ws.length) l.setWeights(ws.map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (l.getClassName() === 'BatchNormalization' ? 0.6 + 0.4 * Math.abs(r()) : r())), w.shape)));
  }
  return model;
}

describe('optimizeLayersModel', () => {
  it('folds BN / activations / padding into the convs with the same predictions, on simdtensor and cpu', async () => {
    const mod = await import('simdtensor/tfjs');
    const r = rng(3);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 9 * 11 * 5 }, () => r() * 3), [2, 9, 11, 5]);
    for (const backend of ['simdtensor', 'cpu']) {
      await tf.setBackend(backend);
      const model = build(11);
      const ref = (model.predict(x) as tf.Tensor).dataSync().slice();
      const sum = mod.optimizeLayersModel(model);
      expect(sum).toEqual({ convs: 3, batchNorms: 3, activations: 2, pads: 1 });
      // The per-layer path (tfjs-layers' own predict, which optimizeLayersModel leaves on the prototype); the
      // compiled plan is tested below.
      const layersPredict = (t: tf.Tensor) => tfl.LayersModel.prototype.predict.call(model, t) as tf.Tensor;
      const before = mod.kernelStats();
      const got = layersPredict(x).dataSync();
      const after = mod.kernelStats();
      expect(got.length).toBe(ref.length);
      let worst = 0, scale = 0;
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(got[i] - ref[i]));
        scale = Math.max(scale, Math.abs(ref[i]));
      }
      expect(scale).toBeGreaterThan(0.1);
      expect(worst).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
      // A second pass changes nothing.
      expect(mod.optimizeLayersModel(model)).toEqual({ convs: 0, batchNorms: 0, activations: 0, pads: 0 });
      if (backend === 'simdtensor') {
        const calls = (k: string) => (after[k]?.native ?? 0) + (after[k]?.fallback ?? 0) - (before[k]?.native ?? 0) - (before[k]?.fallback ?? 0);
        expect(calls('FusedBatchNorm')).toBe(0);
        expect(calls('PadV2')).toBe(0);
        expect(calls('FusedConv2D')).toBe(2);
        expect(calls('FusedDepthwiseConv2D')).toBe(1);
        expect(calls('Relu')).toBe(1); // the unfused relu after the BN with two consumers
        expect(calls('Identity')).toBe(0); // the absorbed layers pass their input tensor on
      }
      // The absorbed layers hand tensors on without copies: nothing leaks, nothing is freed early, and the input
      // (which the folded padding passes on) stays the caller's.
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) layersPredict(x).dispose();
      expect(tf.memory().numTensors).toBe(n0);
      expect(x.isDisposed).toBe(false);
      expect(Array.from(layersPredict(x).dataSync())).toEqual(Array.from(got));
      // The compiled plan (simdtensor) or the per-layer path (cpu) through predict: the same values.
      const planned = (model.predict(x) as tf.Tensor).dataSync();
      for (let i = 0; i < ref.length; i++) expect(Math.abs(planned[i] - ref[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    }
    x.dispose();
  });

  it('runs a folded model as one compiled kernel: residual Adds in the conv epilogue, pooling and a dense head', async () => {
    const mod = await import('simdtensor/tfjs');
    const r = rng(5);
    for (const backend of ['simdtensor', 'cpu']) {
      await tf.setBackend(backend);
      // splitBytes 200: at batch 3 the convs (values of 2880 bytes and more) run one sample at a time, the pool
      // and dense head on the whole batch.
      for (const [batch, splitBytes] of [
        [1, undefined],
        [3, undefined],
        [3, 200],
      ]) {
        const x = tf.tensor4d(Float32Array.from({ length: batch! * 10 * 12 * 3 }, () => r() * 2), [batch!, 10, 12, 3]);
        const model = build2(17);
        const ref = (model.predict(x) as tf.Tensor).dataSync().slice();
        mod.optimizeLayersModel(model, { splitBytes });
        const before = mod.kernelStats();
        const y = model.predict(x) as tf.Tensor;
        const after = mod.kernelStats();
        const calls = (k: string) => (after[k]?.native ?? 0) + (after[k]?.fallback ?? 0) - (before[k]?.native ?? 0) - (before[k]?.fallback ?? 0);
        expect(y.shape).toEqual([batch, 4]);
        const got = y.dataSync();
        for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(1e-5);
        // On simdtensor one kernel ran the whole model; on cpu (no such kernel) tfjs-layers' path did.
        expect(calls('SimdtensorLayersModel')).toBe(backend === 'simdtensor' ? 1 : 0);
        expect(calls('FusedConv2D') + calls('Add') + calls('_FusedMatMul')).toBe(0);
        // execute() of the output is the same kernel; nothing leaks over repeated calls.
        const n0 = tf.memory().numTensors;
        const e = model.execute(x, model.outputs[0].name) as tf.Tensor;
        expect(Array.from(e.dataSync())).toEqual(Array.from(got));
        e.dispose();
        for (let i = 0; i < 3; i++) (model.predict(x) as tf.Tensor).dispose();
        expect(tf.memory().numTensors).toBe(n0);
        // int8 mode is per kernel: the model then takes the per-layer path.
        mod.setInt8Mode(true);
        const b8 = mod.kernelStats().SimdtensorLayersModel?.native ?? 0;
        const q = model.predict(x) as tf.Tensor;
        expect(q.shape).toEqual([batch, 4]);
        expect(mod.kernelStats().SimdtensorLayersModel?.native ?? 0).toBe(b8);
        mod.setInt8Mode(false);
        tf.dispose([x, y, q]);
      }
    }
  });

  it('runs the split head chunk-concurrently on several threads with the one-thread results (batch 16 and 5)', async () => {
    const mod = await import('simdtensor/tfjs');
    await tf.setBackend('simdtensor');
    const threads = mod.getNumThreads();
    const r = rng(23);
    const model = build2(29);
    // splitBytes 1 KiB: at batch 16 and 5 the convs run one sample at a time, the pool and dense head on the batch.
    mod.optimizeLayersModel(model, { splitBytes: 1024 });
    const plan = (model as unknown as Record<symbol, { parallelHead: boolean; planFor(n: number): { par: { steps: { lanes: number; chunks: number; steps: number } } | null } | null }>)[Symbol.for('simdtensor.tfjs.planned')];
    try {
      for (const batch of [16, 5]) {
        const x = tf.tensor4d(Float32Array.from({ length: batch * 10 * 12 * 3 }, () => r() * 2), [batch, 10, 12, 3]);
        // The reference: one thread, each chunk's steps called from JS (the plan before the recorded head).
        mod.setNumThreads(1);
        plan.parallelHead = false;
        expect(plan.planFor(batch)!.par).toBeNull();
        const y1 = model.predict(x) as tf.Tensor;
        const ref = y1.dataSync().slice();
        for (const [n, parallelHead] of [
          [1, true],
          [2, true],
          [3, true],
          [2, false],
        ] as const) {
          mod.setNumThreads(n);
          plan.parallelHead = parallelHead;
          const par = plan.planFor(batch)!.par;
          if (parallelHead) {
            expect(par!.steps.lanes).toBe(n);
            expect(par!.steps.chunks).toBe(batch);
            expect(par!.steps.steps).toBeGreaterThanOrEqual(4 * batch * n); // conv, expand, depthwise, project per chunk and lane
          } else expect(par).toBeNull();
          for (let rep = 0; rep < 3; rep++) {
            const y = model.predict(x) as tf.Tensor;
            // Each chunk's steps are the one-thread plan's calls on the same sample: bit-identical.
            expect(Array.from(y.dataSync())).toEqual(Array.from(ref));
            y.dispose();
          }
        }
        plan.parallelHead = true;
        tf.dispose([x, y1]);
      }
      expect(() => {
        plan.parallelHead = 1 as unknown as boolean;
      }).toThrow(/parallelHead must be a boolean, got number/);
      // Bad thread counts are refused before any plan is made for them.
      expect(() => mod.setNumThreads(0)).toThrow(/setNumThreads: n must be an integer in \[1, \d+\], got 0/);
      expect(() => mod.setNumThreads(1.5)).toThrow(RangeError);
    } finally {
      mod.setNumThreads(threads);
      plan.parallelHead = true;
    }
  });

  it('rejects what is not a layers model, and a bad splitBytes', async () => {
    const mod = await import('simdtensor/tfjs');
    expect(() => mod.optimizeLayersModel({})).toThrow(TypeError);
    expect(() => mod.optimizeLayersModel(tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] }), { splitBytes: -1 })).toThrow(/splitBytes/);
  });
});
