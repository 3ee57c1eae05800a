import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index.js';
import { bertFeeds, bertModel, maxDiff, ortRun, type BertOptions } from './onnx-build.js';

// f32 tolerance from the issue: max |ours − ORT| ≤ 1e-4 × max |ORT|.
const REL = 1e-4;

const feeds = (batch: number, seq: number, vocab: number) => bertFeeds(batch, seq, vocab, [3, 5]);

const FORMS: [BertOptions['form'], number][] = [
  ['decomposed', 14],
  ['decomposed', 18],
  ['fused', 20],
  ['ms-gelu', 17],
];

describe('BERT-style encoder (2 layers, hidden 384, 12 heads) matches onnxruntime-node', () => {
  for (const [form, opset] of FORMS) {
    it(`${form} LayerNorm/GELU at opset ${opset}, seq 128`, async () => {
      const bytes = bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form, opset });
      const model = loadOnnx(bytes);
      const counts = model.nodeCounts;
      // Every GEMM with weights became a prepacked Linear (bias and GELU in its epilogue).
      expect(counts.Linear).toBe(12);
      expect(counts.MatMul).toBe(2); // probs·V (its Transpose keeps the last axis)
      expect(counts.MatMulTransB).toBe(2); // Q·Kᵀ
      expect(counts.Erf ?? 0).toBe(0);
      expect(counts.ReduceMean ?? 0).toBe(0);
      expect(counts.Gelu ?? 0).toBe(0);
      expect((counts.LayerNorm ?? 0) + (counts.LayerNormalization ?? 0)).toBe(5);
      if (form === 'decomposed') {
        expect(model.optimizations.find((o) => o.name === 'layernorm-fusion')!.rewrites).toBe(5);
        expect(model.optimizations.find((o) => o.name === 'gelu-fusion')!.rewrites).toBe(2);
      }
      const f = feeds(1, 128, 1000);
      const ref = await ortRun(bytes, f.ort);
      const out = model.run(f.ours).last_hidden_state;
      expect(out.shape).toEqual([1, 128, 384]);
      const d = maxDiff(out.data as Float32Array, ref.last_hidden_state.data);
      expect(d.abs).toBeLessThanOrEqual(REL * d.ref);
      // Second run: planned arena, fresh output buffer, same numbers.
      const again = model.run(f.ours).last_hidden_state;
      expect(again.data).not.toBe(out.data);
      expect(Array.from(again.data as Float32Array)).toEqual(Array.from(out.data as Float32Array));
    });
  }

  it('symbolic batch/seq: a second input shape gets its own plan; runAsync gives the same result and frees the event loop', async () => {
    const bytes = bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 });
    const model = loadOnnx(bytes);
    expect(model.inputs.map((i) => [i.name, i.dtype, i.dims])).toEqual([
      ['input_ids', 'int64', ['batch', 'seq']],
      ['attention_mask', 'int64', ['batch', 'seq']],
    ]);
    expect(model.outputs[0].dims).toEqual(['batch', 'seq', 384]);
    const f = feeds(2, 24, 1000);
    const ref = await ortRun(bytes, f.ort);
    const sync = model.run(f.ours).last_hidden_state;
    let d = maxDiff(sync.data as Float32Array, ref.last_hidden_state.data);
    expect(d.abs).toBeLessThanOrEqual(REL * d.ref);
    let ticks = 0;
    let spinning = true;
    const spin = () => {
      if (!spinning) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const asy = (await model.runAsync(f.ours)).last_hidden_state;
    spinning = false;
    expect(ticks).toBeGreaterThan(0);
    d = maxDiff(asy.data as Float32Array, ref.last_hidden_state.data);
    expect(d.abs).toBeLessThanOrEqual(REL * d.ref);
    // Concurrent calls queue; an aborted signal rejects with AbortError.
    const [a, b] = await Promise.all([model.runAsync(f.ours), model.runAsync(f.ours)]);
    expect(Array.from(a.last_hidden_state.data as Float32Array)).toEqual(Array.from(b.last_hidden_state.data as Float32Array));
    const ac = new AbortController();
    ac.abort();
    await expect(model.runAsync(f.ours, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    // profile(): one timing per executed node, grouped by op.
    const p = model.profile(f.ours);
    expect(p.nodes.length).toBeGreaterThan(10);
    expect(p.byOp.find((o) => o.op === 'Linear')!.count).toBe(12);
    expect(model.arenaBytes).toBeGreaterThan(0);
  });

  it('every optimization can be switched off on its own without changing the result (small encoder)', async () => {
    const bytes = bertModel({ layers: 1, hidden: 64, heads: 4, ffn: 128, vocab: 100, form: 'decomposed', opset: 13 });
    const f = feeds(2, 16, 100);
    const ref = await ortRun(bytes, f.ort);
    const plain = loadOnnx(bytes, { optimize: false });
    expect(plain.optimizations).toEqual([]);
    expect(plain.nodeCounts.Erf).toBe(1);
    const names = loadOnnx(bytes).optimizations.map((o) => o.name);
    for (const skip of [null, ...names]) {
      const m = skip === null ? plain : loadOnnx(bytes, { disable: [skip] });
      const d = maxDiff(m.run(f.ours).last_hidden_state.data as Float32Array, ref.last_hidden_state.data);
      expect(d.abs, `without ${skip}`).toBeLessThanOrEqual(REL * d.ref);
    }
  });
});
