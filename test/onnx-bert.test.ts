import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index.js';
import { af, bertFeeds, bertModel, G, maxDiff, ortRun, randArr, T, type BertOptions } from './onnx-build.js';
import { expectSameArray } from './helpers.js';

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
      // Every GEMM with weights became a prepacked Linear (bias and GELU in its epilogue), Q/K/V one per layer;
      // each attention block one fused Attention node: no MatMul or Transpose left.
      expect(counts.Linear).toBe(8);
      expect(counts.Attention).toBe(2);
      expect(counts.MatMul ?? 0).toBe(0);
      expect(counts.MatMulTransB ?? 0).toBe(0);
      expect(counts.Transpose ?? 0).toBe(0);
      expect(counts.Softmax ?? 0).toBe(0);
      expect(model.optimizations.find((o) => o.name === 'attention-fusion')!.rewrites).toBe(2);
      expect(model.optimizations.find((o) => o.name === 'qkv-fusion')!.rewrites).toBe(2);
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
      expectSameArray(again.data as Float32Array, out.data as Float32Array);
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
    expectSameArray(a.last_hidden_state.data as Float32Array, b.last_hidden_state.data as Float32Array);
    const ac = new AbortController();
    ac.abort();
    await expect(model.runAsync(f.ours, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    // profile(): one timing per executed node, grouped by op.
    const p = model.profile(f.ours);
    expect(p.nodes.length).toBeGreaterThan(10);
    expect(p.byOp.find((o) => o.op === 'Linear')!.count).toBe(8);
    expect(p.byOp.find((o) => o.op === 'Attention')!.count).toBe(2);
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

/**
 * One attention block as PyTorch exports it, on x [b, s, C] (and, for cross attention, memory [b, t, C] feeding
 * K and V): Q/K/V projections, Reshape to [b, s, H, d] with a constant target, Transposes, MatMul, Mul by 1/√d,
 * optional additive mask input of shape `maskDims`, Softmax, MatMul, Transpose, Reshape back.
 */
function attentionBlock(o: { b: number; s: number; t?: number; c: number; heads: number; maskDims?: number[] }) {
  const g = new G(14);
  const d = o.c / o.heads;
  const x = g.input('x', T.FLOAT, [o.b, o.s, o.c]);
  const mem = o.t ? g.input('mem', T.FLOAT, [o.b, o.t, o.c]) : x;
  const proj = (src: string, p: string, seed: number) =>
    g.node('Add', [g.node('MatMul', [src, g.f32(`${p}.w`, [o.c, o.c], randArr(o.c * o.c, seed, 1 / Math.sqrt(o.c)))]), g.f32(`${p}.b`, [o.c], randArr(o.c, seed + 1, 0.1))]);
  const split = g.i64('split', [0, 0, o.heads, d]);
  const q = g.node('Transpose', [g.node('Reshape', [proj(x, 'q', 1), split])], { perm: [0, 2, 1, 3] });
  const k = g.node('Transpose', [g.node('Reshape', [proj(mem, 'k', 3), split])], { perm: [0, 2, 3, 1] });
  const v = g.node('Transpose', [g.node('Reshape', [proj(mem, 'v', 5), split])], { perm: [0, 2, 1, 3] });
  let sc = g.node('Mul', [g.node('MatMul', [q, k]), g.scalar('scale', 1 / Math.sqrt(d))]);
  if (o.maskDims) sc = g.node('Add', [g.input('mask', T.FLOAT, o.maskDims), sc]); // mask first: either order fuses
  const ctx = g.node('Transpose', [g.node('MatMul', [g.node('Softmax', [sc], { axis: -1 }), v])], { perm: [0, 2, 1, 3] });
  g.node('Reshape', [ctx, g.i64('merge', [0, 0, o.c])], {}, ['y']);
  g.output('y', T.FLOAT, [o.b, o.s, o.c]);
  return g.bytes();
}

describe('attention-fusion and qkv-fusion', () => {
  const cases: { name: string; b: number; s: number; t?: number; heads: number; maskDims?: (b: number, h: number, s: number, t: number) => number[]; merged: boolean }[] = [
    { name: 'padding mask [b, 1, 1, t]', b: 2, s: 7, heads: 3, maskDims: (b, _h, _s, t) => [b, 1, 1, t], merged: true },
    { name: 'full mask [b, h, s, t]', b: 2, s: 9, heads: 2, maskDims: (b, h, s, t) => [b, h, s, t], merged: true },
    { name: 'causal-style mask [s, t]', b: 1, s: 17, heads: 4, maskDims: (_b, _h, s, t) => [s, t], merged: true },
    { name: 'column mask [b, 1, s, 1]', b: 3, s: 5, heads: 2, maskDims: (b, _h, s) => [b, 1, s, 1], merged: true },
    { name: 'no mask', b: 2, s: 33, heads: 4, merged: true },
    { name: 'cross attention (K/V from another input, t ≠ s): Q/K/V stay apart', b: 2, s: 6, t: 11, heads: 2, maskDims: (b, _h, _s, t) => [b, 1, 1, t], merged: false },
  ];
  for (const cs of cases) {
    it(`${cs.name}: one Attention node, equal to onnxruntime-node and to the unfused graph`, async () => {
      const c = 48, t = cs.t ?? cs.s;
      const maskDims = cs.maskDims?.(cs.b, cs.heads, cs.s, t);
      const bytes = attentionBlock({ b: cs.b, s: cs.s, t: cs.t, c, heads: cs.heads, maskDims });
      const m = loadOnnx(bytes);
      expect(m.optimizations.find((o) => o.name === 'attention-fusion')!.rewrites).toBe(1);
      expect(m.optimizations.find((o) => o.name === 'qkv-fusion')!.rewrites).toBe(cs.merged ? 1 : 0);
      expect(m.nodeCounts.Attention).toBe(1);
      expect((m.nodeCounts.MatMul ?? 0) + (m.nodeCounts.Transpose ?? 0) + (m.nodeCounts.Softmax ?? 0)).toBe(0);
      expect(m.nodeCounts.Linear).toBe(cs.merged ? 1 : 3);
      const x = randArr(cs.b * cs.s * c, 11, 1);
      const ours: Record<string, { data: Float32Array; dims: number[] }> = { x: { data: x, dims: [cs.b, cs.s, c] } };
      if (cs.t) ours.mem = { data: randArr(cs.b * t * c, 12, 1), dims: [cs.b, t, c] };
      if (maskDims) {
        const n = maskDims.reduce((p, d) => p * d, 1);
        ours.mask = { data: Float32Array.from({ length: n }, (_, i) => (i % 3 === 1 ? -10000 : (i % 7) * 0.1)), dims: maskDims };
      }
      const ort = Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, { type: 'float32', ...v }]));
      const ref = (await ortRun(bytes, ort)).y;
      const got = m.run(ours).y;
      expect(got.shape).toEqual([cs.b, cs.s, c]);
      const d = maxDiff(got.data as Float32Array, ref.data);
      expect(d.abs).toBeLessThanOrEqual(REL * d.ref);
      const plain = loadOnnx(bytes, { disable: ['attention-fusion'] });
      expect(plain.nodeCounts.Attention ?? 0).toBe(0);
      const e = maxDiff(got.data as Float32Array, plain.run(ours).y.data as Float32Array);
      expect(e.abs).toBeLessThanOrEqual(REL * e.ref);
    });
  }

  it('a mask that would grow the scores, and wrong feeds, throw a RangeError naming the node', () => {
    const bytes = attentionBlock({ b: 1, s: 4, c: 16, heads: 2, maskDims: ['mb', 1, 1, 'mt'] as never });
    const m = loadOnnx(bytes);
    expect(m.nodeCounts.Attention).toBe(1);
    const x = { data: randArr(64, 1, 1), dims: [1, 4, 16] };
    expect(() => m.run({ x, mask: { data: new Float32Array(8), dims: [2, 1, 1, 4] } })).toThrow(/Attention.*does not broadcast/);
    expect(() => m.run({ x, mask: { data: new Float32Array(5), dims: [1, 1, 1, 5] } })).toThrow(RangeError);
    expect(m.run({ x, mask: { data: new Float32Array(4), dims: [1, 1, 1, 4] } }).y.shape).toEqual([1, 4, 16]);
  });
});

describe('residual-layernorm', () => {
  /** y = LayerNorm(Add(a, r)) over the last axis (LayerNormalization at opset 17, or written out at 14). */
  function residualNorm(o: { aDims: number[]; rDims: number[]; fused: boolean; extraReader?: boolean }) {
    const g = new G(o.fused ? 17 : 14);
    const h = o.aDims[o.aDims.length - 1];
    const a = g.input('a', T.FLOAT, o.aDims);
    const r = g.input('r', T.FLOAT, o.rDims);
    const s = g.node('Add', [a, r]);
    const gamma = g.f32('gamma', [h], randArr(h, 3, 0.5).map((v) => 1 + v));
    const beta = g.f32('beta', [h], randArr(h, 4, 0.2));
    if (o.fused) g.node('LayerNormalization', [s, gamma, beta], { axis: -1, epsilon: af(1e-6) }, ['y']);
    else {
      const m = g.node('ReduceMean', [s], { axes: [-1] });
      const d = g.node('Sub', [s, m]);
      const v = g.node('ReduceMean', [g.node('Pow', [d, g.scalar('two', 2)])], { axes: [-1] });
      const n = g.node('Div', [d, g.node('Sqrt', [g.node('Add', [v, g.scalar('eps', 1e-6)])])]);
      g.node('Add', [g.node('Mul', [n, gamma]), beta], {}, ['y']);
    }
    g.output('y', T.FLOAT);
    if (o.extraReader) {
      g.node('Identity', [s], {}, ['sum']);
      g.output('sum', T.FLOAT);
    }
    return g.bytes();
  }
  const feedsOf = (aDims: number[], rDims: number[]) => {
    const n = (d: number[]) => d.reduce((p, v) => p * v, 1);
    const a = randArr(n(aDims), 11, 3), r = randArr(n(rDims), 12, 3);
    return {
      ours: { a: { data: a, dims: aDims }, r: { data: r, dims: rDims } },
      ort: { a: { type: 'float32', data: a, dims: aDims }, r: { type: 'float32', data: r, dims: rDims } },
    };
  };
  const rewrites = (m: ReturnType<typeof loadOnnx>) => m.optimizations.find((o) => o.name === 'residual-layernorm')?.rewrites ?? 0;

  for (const fused of [false, true])
    it(`${fused ? 'LayerNormalization' : 'the written-out LayerNorm'}: the Add goes into the norm, same result as onnxruntime and as unfused`, async () => {
      for (const [aDims, rDims, fuses] of [
        [[2, 5, 48], [2, 5, 48], true], // the residual form
        [[3, 37], [3, 37], true], // odd width: the vector tail
        [[2, 5, 48], [48], true], // one row repeated: the norm runs per row block (few repeats), summing it there
        [[3, 5, 48], [5, 48], true], // the embeddings' position rows against a batch: one native norm per batch index
        [[2, 5, 48], [1, 5, 48], true],
        [[40, 2, 48], [2, 48], true], // many short repeats: the Add runs first at run time
        [[2, 5, 48], [1, 5, 1], true],
        [[1, 5, 48], [5, 48], true], // same elements, fewer dims (the embeddings' position rows): no Add needed
        [[5, 48], [1, 1, 5, 48], true], // the Add's output has the residual's rank
      ] as [number[], number[], boolean][]) {
        const bytes = residualNorm({ aDims, rDims, fused });
        const f = feedsOf(aDims, rDims);
        const ref = await ortRun(bytes, f.ort);
        const m = loadOnnx(bytes);
        expect(rewrites(m), `${aDims} + ${rDims}`).toBe(fuses ? 1 : 0);
        expect(m.nodeCounts.Add ?? 0).toBe(0);
        const got = m.run(f.ours).y;
        expect(got.shape).toEqual(ref.y.dims);
        const d = maxDiff(got.data as Float32Array, ref.y.data);
        expect(d.abs, `${aDims} + ${rDims}`).toBeLessThanOrEqual(REL * d.ref);
        // Bit for bit what the Add and then the norm give (the sum is rounded to float first).
        const off = loadOnnx(bytes, { disable: ['residual-layernorm'] });
        expect(rewrites(off)).toBe(0);
        expectSameArray(got.data as Float32Array, off.run(f.ours).y.data as Float32Array);
        // Again from the memory plan.
        expectSameArray(m.run(f.ours).y.data as Float32Array, got.data as Float32Array);
      }
    });

  it('leaves an Add that something else reads, and a constant addend', async () => {
    const bytes = residualNorm({ aDims: [2, 4, 32], rDims: [2, 4, 32], fused: true, extraReader: true });
    const m = loadOnnx(bytes);
    expect(rewrites(m)).toBe(0);
    const f = feedsOf([2, 4, 32], [2, 4, 32]);
    const ref = await ortRun(bytes, f.ort);
    const got = m.run(f.ours);
    expect(maxDiff(got.sum.data as Float32Array, ref.sum.data).abs).toBe(0);
    const d = maxDiff(got.y.data as Float32Array, ref.y.data);
    expect(d.abs).toBeLessThanOrEqual(REL * d.ref);
    // Add(x, constant) + LayerNormalization: a bias, not a residual.
    const g = new G(17);
    g.input('a', T.FLOAT, [2, 8]);
    g.node('LayerNormalization', [g.node('Add', ['a', g.f32('c', [2, 8], randArr(16, 5))]), g.f32('gamma', [8], randArr(8, 6))], {}, ['y']);
    g.output('y');
    expect(rewrites(loadOnnx(g.bytes()))).toBe(0);
  });

  it('the BERT encoder: every residual Add (and the embeddings Add) goes into its LayerNorm', () => {
    for (const form of ['decomposed', 'fused'] as const) {
      const m = loadOnnx(bertModel({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 100, form, opset: form === 'fused' ? 20 : 14 }));
      expect(rewrites(m), form).toBe(5);
      expect(m.nodeCounts.LayerNorm, form).toBe(5);
      expect(m.nodeCounts.LayerNormalization ?? 0, form).toBe(0);
    }
  });
});

describe('memory plan: graph outputs that view a computed value', () => {
  /** x → Relu → r; outputs: Identity(r) [and Reshape(r)], and optionally a value that reads r afterwards. */
  function viewsModel(o: { twoViews: boolean; laterReader: boolean }) {
    const g = new G(14);
    g.input('x', T.FLOAT, [4, 6]);
    const r = g.node('Relu', ['x']);
    g.node('Identity', [r], {}, ['y']);
    g.output('y', T.FLOAT);
    if (o.twoViews) {
      g.node('Reshape', [r, g.i64('shape', [24])], {}, ['flat']);
      g.output('flat', T.FLOAT);
    }
    if (o.laterReader) {
      g.node('Mul', [r, g.scalar('two', 2)], {}, ['z']);
      g.output('z', T.FLOAT);
    }
    return g.bytes();
  }
  it('a fresh buffer per run (no copy-out of an arena value), distinct buffers when two outputs view one value, same numbers every run', () => {
    for (const twoViews of [false, true])
      for (const laterReader of [false, true]) {
        const m = loadOnnx(viewsModel({ twoViews, laterReader }));
        const x = randArr(24, 3, 1);
        const want = Array.from(x, (v) => Math.max(0, v));
        const runs = [0, 1, 2].map(() => m.run({ x: { data: x, dims: [4, 6] } }));
        for (const r of runs) {
          expect(Array.from(r.y.data as Float32Array)).toEqual(want);
          expect(r.y.shape).toEqual([4, 6]);
          if (twoViews) {
            expect(Array.from(r.flat.data as Float32Array)).toEqual(want);
            expect(r.flat.data.buffer).not.toBe(r.y.data.buffer);
          }
          if (laterReader) expect(Array.from(r.z.data as Float32Array)).toEqual(want.map((v) => Math.fround(v * 2)));
        }
        // Every run's outputs are its own: a later run does not overwrite an earlier result.
        expect(runs[1].y.data.buffer).not.toBe(runs[2].y.data.buffer);
        (runs[1].y.data as Float32Array).fill(-1);
        expect(Array.from(runs[2].y.data as Float32Array)).toEqual(want);
        expect(Array.from(m.run({ x: { data: x, dims: [4, 6] } }).y.data as Float32Array)).toEqual(want);
      }
  });
});
