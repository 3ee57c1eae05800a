// Compressed models: gradual pruning in training (schedule, masks kept by the optimizer), sparse and int8
// inference weights, and their model files (round trips and validation).
import { describe, expect, it } from 'vitest';
import { compareOutputs, rand, tensor, Tensor } from '../src/index.js';
import {
  deserializeModel, fit, GradualPruner, Linear, mlp, modelSparsity, predict, quantizeModel, serializeModel, sparsifyModel,
} from '../src/nn/index.js';

function blobs(n: number, seed: number) {
  const x = rand([n, 16], { seed }) as Tensor<'float32'>;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    x.data[i * 16 + c] += 2; // class c lights up feature c
  }
  return { x, y };
}

/** Header JSON and data section of a model file. */
function parts(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

describe('gradual pruning in training', () => {
  it('follows the cubic schedule, keeps pruned weights at zero, and ends at the final sparsity', () => {
    const data = blobs(256, 1);
    const m = mlp([16, 32, 4], { seed: 2 });
    const pruner = new GradualPruner(m, { sparsity: 0.8, begin: 0, end: 40, frequency: 8 });
    expect(pruner.target(0)).toBe(0);
    expect(pruner.target(20)).toBeCloseTo(0.8 - 0.8 * (1 - 16 / 40) ** 3, 10); // held from step 16
    expect(pruner.target(40)).toBe(0.8);
    const seen: number[] = [];
    fit(m, data, {
      epochs: 10, batchSize: 32, optimizer: { type: 'adamw', lr: 1e-2 }, seed: 3,
      onStep: (s) => {
        pruner.step(s);
        if (s % 8 === 0 && s <= 40) seen.push(modelSparsity(m));
      },
    });
    // Sparsity grows along the schedule (the optimizer never revives a masked weight between updates).
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(modelSparsity(m)).toBeCloseTo(0.8, 2);
    for (const l of m.linears()) {
      const w = l.weight!.value.data;
      const mask = l.weight!.mask!.data;
      for (let i = 0; i < w.length; i++) if (mask[i] === 0) expect(Math.abs(w[i])).toBe(0);
    }
    const acc = predict(m, data.x);
    expect(compareOutputs(acc, acc).top1Agreement).toBe(1);
    expect(() => new GradualPruner(m, { sparsity: 0.5, end: 10, layers: [5] })).toThrow(/layers lists 5, the model has 2 Linear layers/);
    expect(() => new GradualPruner(m, { sparsity: 1.5, end: 10 })).toThrow(/finalSparsity must be a number in \[0, 1\]/);
  });
});

describe('sparse inference weights', () => {
  it('match the dense pruned model, save smaller and load back exactly', () => {
    const m = mlp([16, 48, 4], { seed: 4 });
    new GradualPruner(m, { sparsity: 0.85, end: 1 }).applyNow(0.85);
    const x = rand([9, 16], { seed: 5 });
    const dense = m.forward(x);
    const denseBytes = m.bytes();
    sparsifyModel(m);
    expect(m.linears()[0].format).toBe('sparse');
    const y = m.forward(x);
    for (let i = 0; i < y.size; i++) expect(y.data[i]).toBeCloseTo(dense.data[i], 4);
    expect(m.bytes()).toBeLessThan(denseBytes / 2);
    const bytes = serializeModel(m);
    const { header } = parts(bytes);
    expect(Object.keys(header).filter((k) => k.startsWith('0.'))).toEqual(['0.weight.values', '0.weight.rowPtr', '0.weight.colIdx', '0.bias']);
    const back = deserializeModel(bytes).model;
    expect(back.linears()[0].format).toBe('sparse');
    expect(Array.from(back.forward(x).data)).toEqual(Array.from(y.data));
  });

  it('rejects inconsistent sparse parts', () => {
    const m = sparsifyModel(mlp([8, 8, 2], { seed: 6 }));
    const bytes = serializeModel(m);
    const { header, data } = parts(bytes);
    // Column index past the matrix: find the first colIdx entry and overwrite it.
    const off = header['0.weight.colIdx'].data_offsets[0];
    const bad = data.slice();
    new DataView(bad.buffer).setInt32(off, 99, true);
    const h = new TextEncoder().encode(JSON.stringify(header));
    const file = new Uint8Array(8 + h.length + bad.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(h.length), true);
    file.set(h, 8);
    file.set(bad, 8 + h.length);
    expect(() => deserializeModel(file)).toThrow(/loadModel: model: layer 0 \('linear'\): .*colIdx/);
  });
});

describe('int8 inference weights', () => {
  const data = blobs(400, 7);
  const m0 = mlp([16, 64, 32, 4], { seed: 8 });
  fit(m0, data, { epochs: 15, batchSize: 32, optimizer: { type: 'adamw', lr: 5e-3 }, seed: 9 });
  const calib = blobs(64, 10).x;
  const test = blobs(200, 11);
  const ref = predict(m0, test.x);
  const copy = () => deserializeModel(serializeModel(m0)).model;

  it('static (calibrated) and dynamic activations stay close to float32', () => {
    for (const q of [quantizeModel(copy(), { calibration: calib }), quantizeModel(copy(), { activations: 'dynamic' })]) {
      expect(q.linears().every((l) => l.format === 'int8')).toBe(true);
      const cmp = compareOutputs(ref, predict(q, test.x));
      expect(cmp.top1Agreement).toBeGreaterThan(0.97);
      expect(cmp.cosineSimilarity).toBeGreaterThan(0.999);
      // One byte per weight plus a scale and a zero point per row, biases in float32.
      expect(q.bytes()).toBe(16 * 64 + 64 * 32 + 32 * 4 + 8 * (64 + 32 + 4) + 4 * (64 + 32 + 4));
    }
    const st = quantizeModel(copy(), { calibration: calib });
    expect(st.linears().every((l) => l.inputQuant && l.inputQuant.dtype === 'uint8')).toBe(true);
    expect(() => quantizeModel(copy(), { activations: 'static' })).toThrow(/static activations need calibration data/);
  });

  it('round-trips through a model file (weights, scales, calibrated input ranges)', () => {
    const q = quantizeModel(copy(), { calibration: calib });
    const want = predict(q, test.x);
    const bytes = serializeModel(q);
    const { header } = parts(bytes);
    expect(header['0.weight'].dtype).toBe('I8');
    expect(header['0.weight.scale'].shape).toEqual([64]);
    expect(header['0.master']).toBeUndefined();
    const back = deserializeModel(bytes).model;
    expect(back.linears()[1].inputQuant!.scale).toBe(q.linears()[1].inputQuant!.scale);
    expect(Array.from(predict(back, test.x).data)).toEqual(Array.from(want.data));
    expect(back.linears()[0].weight).toBeNull();
    // With the float32 masters it can be trained again (and quantized again).
    const withMaster = deserializeModel(serializeModel(q, { includeMaster: true })).model;
    expect(withMaster.linears()[0].weight).not.toBeNull();
    // A damaged scale is caught by the quantized tensor's own validation.
    const d = parts(bytes);
    const bad = d.data.slice();
    new DataView(bad.buffer).setFloat32(d.header['0.weight.scale'].data_offsets[0], -1, true);
    const h = new TextEncoder().encode(JSON.stringify(d.header));
    const file = new Uint8Array(8 + h.length + bad.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(h.length), true);
    file.set(h, 8);
    file.set(bad, 8 + h.length);
    expect(() => deserializeModel(file)).toThrow(/layer 0 \('linear'\): .*scale\[0\] must be positive/);
  });

  it('a changed float32 weight makes the int8 weight stale instead of silently using old values', () => {
    const q = quantizeModel(copy(), { activations: 'dynamic' });
    const l = q.linears()[0] as Linear;
    l.weight!.version++;
    expect(() => q.forward(tensor(new Float32Array(16), [1, 16]))).toThrow(/the int8 weight is stale/);
  });
});
