import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index.js';
import { bertModel, dynamicQuantizeRef, exposeQuantizedGelu, G, maxDiff, ortRun, randArr, T } from './onnx-build.js';
import { getOnnxOp } from '../src/onnx/ops/registry.js';
import { mk } from '../src/onnx/value.js';
import type { Node } from '../src/onnx/graph.js';
import '../src/onnx/ops/quant.js';
import { expectSameArray } from './helpers.js';

function qweights(n: number, seed: number, signed: boolean): Int8Array | Uint8Array {
  const r = randArr(n, seed);
  return signed ? Int8Array.from(r, (v) => Math.round(v * 127)) : Uint8Array.from(r, (v) => Math.round((v + 1) * 127.5));
}

/** What onnxruntime's quantize_dynamic writes for MatMul + Add: DQL → MatMulInteger → Cast → Mul(scales) → Add. */
function dynLayer(g: G, x: string, fin: number, fout: number, p: string, seed: number, perColumn: boolean): string {
  const [xq, xs, xz] = [`${p}.xq`, `${p}.xs`, `${p}.xz`];
  g.node('DynamicQuantizeLinear', [x], {}, [xq, xs, xz]);
  const w = g.init(`${p}.w`, perColumn ? T.UINT8 : T.INT8, [fin, fout], qweights(fin * fout, seed, !perColumn));
  const wz = perColumn ? g.init(`${p}.wz`, T.UINT8, [fout], Uint8Array.from({ length: fout }, (_, i) => 120 + (i % 9))) : g.init(`${p}.wz`, T.INT8, [], Int8Array.of(0));
  const ws = perColumn ? g.f32(`${p}.ws`, [fout], Array.from({ length: fout }, (_, i) => 0.004 + i * 1e-4)) : g.scalar(`${p}.ws`, 0.006);
  const acc = g.node('MatMulInteger', [xq, w, xz, wz]);
  const f = g.node('Cast', [acc], { to: T.FLOAT });
  const s = g.node('Mul', [xs, ws]);
  return g.node('Add', [g.node('Mul', [f, s]), g.f32(`${p}.b`, [fout], randArr(fout, seed + 5, 0.2))]);
}

describe('int8 graphs match onnxruntime-node', () => {
  it('dynamic quantization (DynamicQuantizeLinear + MatMulInteger + Cast + Mul + Add, per-tensor and per-column weights)', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 64]);
    const h = g.node('Relu', [dynLayer(g, 'x', 64, 48, 'l0', 1, false)], {}, ['h']);
    dynLayer(g, h, 48, 16, 'l1', 2, true);
    const last = (g.nodes[g.nodes.length - 1] as { output: string[] }).output;
    last[0] = 'y';
    // A bare MatMulInteger whose int32 result is an output (not fused), and DQL's outputs.
    g.node('MatMulInteger', ['l0.xq', 'l0.w', 'l0.xz', 'l0.wz'], {}, ['acc']);
    g.node('Identity', ['l0.xq'], {}, ['xq']);
    g.node('Identity', ['l1.xs'], {}, ['xs1']);
    g.output('y');
    g.output('h');
    g.output('acc', T.INT32);
    g.output('xq', T.UINT8);
    g.output('xs1', T.FLOAT, []);
    const bytes = g.bytes();
    const model = loadOnnx(bytes);
    expect(model.nodeCounts.Int8Linear).toBe(2);
    expect(model.nodeCounts.Cast ?? 0).toBe(0);
    expect(model.optimizations.find((o) => o.name === 'dynamic-int8-fusion')!.rewrites).toBe(2);
    const x = randArr(9 * 64, 7, 3);
    const got = model.run({ x: { data: x, dims: [9, 64] } });
    const ref = await ortRun(bytes, { x: { type: 'float32', data: x, dims: [9, 64] } });
    // Integer ops bit-exact.
    expect(Array.from(got.xq.data as Uint8Array)).toEqual(Array.from(ref.xq.data as Uint8Array));
    expect(Array.from(got.acc.data as Int32Array)).toEqual(Array.from(ref.acc.data as Int32Array));
    // Dequantized outputs: the first layer is exact up to float rounding; the second within one quantization step
    // of its input (x_scale × max |w − wz| × w_scale) on top of that.
    const dh = maxDiff(got.h.data as Float32Array, ref.h.data);
    expect(dh.abs).toBeLessThanOrEqual(1e-5 * dh.ref);
    const xs1 = (ref.xs1.data as Float32Array)[0];
    const dy = maxDiff(got.y.data as Float32Array, ref.y.data);
    expect(dy.abs).toBeLessThanOrEqual(1e-5 * dy.ref + xs1 * 0.007 * 255);
    // Same through runAsync (the int8 GEMMs on the native pool).
    const asy = await model.runAsync({ x: { data: x, dims: [9, 64] } });
    expect(Array.from(asy.y.data as Float32Array)).toEqual(Array.from(got.y.data as Float32Array));
  });

  it('MatMulInteger with a runtime B (uint8 × uint8, a scalar A and per-column B zero points): exact int32', async () => {
    const g = new G(13);
    g.input('a', T.UINT8, [5, 33]);
    g.input('b', T.UINT8, [33, 7]);
    g.input('az', T.UINT8, []);
    g.input('bz', T.UINT8, [7]);
    g.node('MatMulInteger', ['a', 'b', 'az', 'bz'], {}, ['y']);
    g.output('y', T.INT32);
    const a = qweights(165, 1, false) as Uint8Array, b = qweights(231, 2, false) as Uint8Array;
    const az = Uint8Array.of(131), bz = Uint8Array.of(1, 2, 3, 250, 128, 0, 9);
    const got = loadOnnx(g.bytes()).run({ a: { data: a, dims: [5, 33] }, b: { data: b, dims: [33, 7] }, az: { data: az, dims: [] }, bz: { data: bz, dims: [7] } });
    const ref = await ortRun(g.bytes(), { a: { type: 'uint8', data: a, dims: [5, 33] }, b: { type: 'uint8', data: b, dims: [33, 7] }, az: { type: 'uint8', data: az, dims: [] }, bz: { type: 'uint8', data: bz, dims: [7] } });
    expect(Array.from(got.y.data as Int32Array)).toEqual(Array.from(ref.y.data as Int32Array));
  });

  for (const bSigned of [true, false]) {
    it(`QLinearMatMul u8 × ${bSigned ? 's8' : 'u8'} → u8: integer outputs match (requantization within one step)`, async () => {
      const g = new G(13);
      g.input('a', T.UINT8, ['n', 40]);
      g.node('QLinearMatMul', ['a', g.scalar('as', 0.02), g.init('az', T.UINT8, [], Uint8Array.of(131)),
        g.init('b', bSigned ? T.INT8 : T.UINT8, [40, 24], qweights(960, 3, bSigned)), g.scalar('bs', 0.01), g.init('bz', bSigned ? T.INT8 : T.UINT8, [], bSigned ? Int8Array.of(0) : Uint8Array.of(127)),
        g.scalar('ys', 0.15), g.init('yz', T.UINT8, [], Uint8Array.of(128))], {}, ['y']);
      g.output('y', T.UINT8);
      const a = qweights(6 * 40, 4, false);
      const got = loadOnnx(g.bytes()).run({ a: { data: a, dims: [6, 40] } });
      const ref = await ortRun(g.bytes(), { a: { type: 'uint8', data: a, dims: [6, 40] } });
      const d = maxDiff(got.y.data as Uint8Array, ref.y.data);
      expect(d.abs).toBeLessThanOrEqual(1);
      let off = 0;
      for (let i = 0; i < a.length / 40 * 24; i++) if ((got.y.data as Uint8Array)[i] !== (ref.y.data as Uint8Array)[i]) off++;
      expect(off).toBeLessThanOrEqual(2); // only ties at .5 may round differently (float vs fixed-point multiplier)
    });
  }

  it('QDQ graph (QuantizeLinear/DequantizeLinear around a MatMul with per-channel int8 weights): within one output step', async () => {
    const g = new G(13);
    g.input('x', T.FLOAT, ['n', 32]);
    const xq = g.node('QuantizeLinear', ['x', g.scalar('xs', 0.02), g.init('xz', T.UINT8, [], Uint8Array.of(128))]);
    const xd = g.node('DequantizeLinear', [xq, 'xs', 'xz']);
    const wd = g.node('DequantizeLinear', [g.init('wq', T.INT8, [32, 16], qweights(512, 5, true)), g.f32('wsc', [16], Array.from({ length: 16 }, (_, i) => 0.003 + i * 2e-4)), g.init('wz', T.INT8, [16], new Int8Array(16))], { axis: 1 });
    const y = g.node('Add', [g.node('MatMul', [xd, wd]), g.f32('b', [16], randArr(16, 6, 0.1))]);
    const yq = g.node('QuantizeLinear', [y, g.scalar('ys', 0.05), g.init('yz', T.UINT8, [], Uint8Array.of(100))]);
    g.node('DequantizeLinear', [yq, 'ys', 'yz'], {}, ['out']);
    g.output('out');
    const x = randArr(8 * 32, 8, 2);
    const model = loadOnnx(g.bytes());
    expect(model.nodeCounts.Linear).toBe(1); // the constant DequantizeLinear folded, the f32 GEMM prepacked
    const got = model.run({ x: { data: x, dims: [8, 32] } });
    const ref = await ortRun(g.bytes(), { x: { type: 'float32', data: x, dims: [8, 32] } });
    expect(maxDiff(got.out.data as Float32Array, ref.out.data).abs).toBeLessThanOrEqual(0.05 + 1e-6);
  });
});

describe('dynamically quantized BERT-style encoder (quantize_dynamic form)', () => {
  it('2 layers, hidden 384, seq 128: every MatMul is one fused int8 GEMM; output close to onnxruntime-node on the same graph', async () => {
    const bytes = bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14, int8: true });
    const model = loadOnnx(bytes);
    expect(model.nodeCounts.Int8Linear).toBe(8); // Q/K/V merged per layer (qkv-fusion), per-column weight scales
    expect(model.nodeCounts.Attention).toBe(2);
    expect(loadOnnx(bytes, { disable: ['qkv-fusion'] }).nodeCounts.Int8Linear).toBe(12);
    // Q/K/V share one; only fused int8 GEMMs read them, so they run the SIMD quantizer ('fast-dynamic-quantize').
    expect(model.nodeCounts.DynamicQuantize).toBe(8);
    expect(model.nodeCounts.DynamicQuantizeLinear ?? 0).toBe(0);
    expect(loadOnnx(bytes, { disable: ['fast-dynamic-quantize'] }).nodeCounts.DynamicQuantizeLinear).toBe(8);
    expect(model.nodeCounts.MatMulInteger ?? 0).toBe(0);
    // FFN 1's GELU outputs (FFN 2's float32 input, before its DynamicQuantizeLinear) exposed in both runtimes: the
    // fusions stay as they are (the u8 form itself is not an output).
    const { bytes: tapped, taps } = exposeQuantizedGelu(bytes);
    expect(taps.length).toBe(2);
    const tm = loadOnnx(tapped);
    expect([tm.nodeCounts.Int8Linear, tm.nodeCounts.DynamicQuantize, tm.nodeCounts.Erf ?? 0]).toEqual([8, 8, 0]);
    const ids = BigInt64Array.from({ length: 128 }, (_, i) => BigInt((i * 37 + 11) % 1000));
    const mask = BigInt64Array.from({ length: 128 }, (_, i) => (i < 120 ? 1n : 0n));
    const feeds = { input_ids: { type: 'int64', data: ids, dims: [1, 128] }, attention_mask: { type: 'int64', data: mask, dims: [1, 128] } };
    const got = tm.run({ input_ids: { data: ids, dims: [1, 128] }, attention_mask: { data: mask, dims: [1, 128] } });
    const ref = await ortRun(tapped, feeds);
    // The criterion for int8 graphs (issue #16): integer ops bit-exact (the first test above), dequantized values
    // within one quantization step. Neither runtime's erf is exact, and a GELU output within an ulp of a rounding
    // boundary of FFN 2's DynamicQuantizeLinear can land one step apart; such a step moves the next tensor's range, so
    // a whole later tensor requantizes a little differently (docs/onnx.md, "The int8 GELU epilogue"). So:
    // - layer 0's GELU (identical int8 inputs here) agrees to the erf's own error;
    const g0 = maxDiff(got[taps[0]].data as Float32Array, ref[taps[0]].data);
    expect(g0.abs).toBeLessThanOrEqual(2e-6 * g0.ref);
    // - both layers' requantized FFN 2 inputs differ by at most one step, in a small fraction of the values;
    for (const t of taps) {
      const a = dynamicQuantizeRef(got[t].data as Float32Array), b = dynamicQuantizeRef(ref[t].data as Float32Array);
      let off = 0, worst = 0;
      for (let i = 0; i < a.q.length; i++) if (a.q[i] !== b.q[i]) (off++, (worst = Math.max(worst, Math.abs(a.q[i] - b.q[i]))));
      expect(worst).toBeLessThanOrEqual(1);
      expect(off).toBeLessThanOrEqual(0.05 * a.q.length);
      expect(Math.abs(a.s - b.s)).toBeLessThanOrEqual(1e-3 * b.s);
    }
    // - and the encoder's output is closer to onnxruntime's than onnxruntime's own int8 output is to the float32
    //   model's (same weights): the int8 error itself, not the two runtimes' float rounding, dominates.
    const d = maxDiff(got.last_hidden_state.data as Float32Array, ref.last_hidden_state.data);
    const f32 = await ortRun(bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 }), feeds);
    const own = maxDiff(ref.last_hidden_state.data as Float32Array, f32.last_hidden_state.data);
    expect(own.abs).toBeGreaterThan(0.003 * own.ref); // the bound below is not vacuous
    expect(d.abs).toBeLessThanOrEqual(0.5 * own.abs);
    // The production graph (no taps) computes the same values.
    const plain = model.run({ input_ids: { data: ids, dims: [1, 128] }, attention_mask: { data: mask, dims: [1, 128] } });
    expectSameArray(plain.last_hidden_state.data as Float32Array, got.last_hidden_state.data as Float32Array);
  });
});

describe("'DynamicQuantize' (the fast-dynamic-quantize form) against the exact DynamicQuantizeLinear kernel", () => {
  const node = (op: string, domain: string): Node => ({ op, domain, name: 'q', inputs: ['x'], outputs: ['y', 's', 'z'], attrs: {} });
  const run = (op: string, domain: string, x: Float32Array) =>
    getOnnxOp(op, domain)!.run(node(op, domain), [mk('float32', [x.length], x)], [], { opset: 13 } as never);
  it('same scale and zero point; every value within one step, nearly all equal; NaN and empty inputs take the exact path', () => {
    for (const [n, seed, amp, shift] of [[1, 1, 1, 0], [17, 2, 3, 1], [1000, 3, 0.5, -2], [4099, 4, 7, 0.3], [65537, 5, 2, 0]] as const) {
      const x = randArr(n, seed, amp).map((v) => v + shift);
      const [qa, sa, za] = run('DynamicQuantizeLinear', '', x);
      const [qb, sb, zb] = run('DynamicQuantize', 'simdtensor', x);
      expect(sb.data[0]).toBe(sa.data[0]);
      expect(zb.data[0]).toBe(za.data[0]);
      let diff = 0;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(qb.data[i] - qa.data[i])).toBeLessThanOrEqual(1);
        if (qb.data[i] !== qa.data[i]) diff++;
      }
      expect(diff).toBeLessThanOrEqual(Math.max(1, n / 1000));
    }
    const z = new Float32Array(8);
    expect(Array.from(run('DynamicQuantize', 'simdtensor', z)[1].data)).toEqual(Array.from(run('DynamicQuantizeLinear', '', z)[1].data));
    const nan = Float32Array.of(1, NaN, -2, 5);
    const a = run('DynamicQuantizeLinear', '', nan), b = run('DynamicQuantize', 'simdtensor', nan);
    expect(Array.from(b[0].data)).toEqual(Array.from(a[0].data));
    expect(b[1].data[0]).toBe(a[1].data[0]);
    expect(run('DynamicQuantize', 'simdtensor', new Float32Array(0))[0].size).toBe(0);
  });
});

describe('attention-scale-folding', () => {
  it('moves the scores scale into the Q projection (float32 weights; int8: w_scale), same outputs within float rounding', async () => {
    const { quantizeModel } = await import('../src/index.js');
    const f32 = loadOnnx(bertModel({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 50, form: 'decomposed', opset: 14 }));
    const ids = BigInt64Array.from({ length: 24 }, (_, i) => BigInt((i * 7 + 3) % 50));
    const mask = BigInt64Array.from({ length: 24 }, (_, i) => (i % 12 < 10 ? 1n : 0n));
    const feeds = { input_ids: { data: ids, dims: [2, 12] }, attention_mask: { data: mask, dims: [2, 12] } };
    for (const m of [f32, quantizeModel(f32, { mode: 'dynamic' })]) {
      expect(m.optimizations.find((o) => o.name === 'attention-scale-folding')!.rewrites).toBe(2);
      const bytes = (await import('../src/index.js')).toOnnxBytes(m);
      // Without attention-fusion too the scale stays a Mul; with the fusion alone it is the Attention's scale.
      const off = loadOnnx(bytes, { disable: ['attention-scale-folding', 'attention-fusion'] });
      expect(off.nodeCounts.Mul).toBe(m.nodeCounts.Mul + 2);
      const inAttention = loadOnnx(bytes, { disable: ['attention-scale-folding'] });
      expect(inAttention.nodeCounts.Mul).toBe(m.nodeCounts.Mul);
      const a = Object.values(m.run(feeds))[0].data as Float32Array;
      for (const other of [off, inAttention]) {
        const d = maxDiff(a, Object.values(other.run(feeds))[0].data as Float32Array);
        expect(d.abs).toBeLessThanOrEqual(1e-4 * d.ref);
      }
    }
  });
  it('leaves a scale it cannot move (a projection weight read twice) in place', () => {
    const g = new G(14);
    g.input('x', T.FLOAT, [3, 8]);
    const w = g.f32('w', [8, 8], Array.from(randArr(64, 1, 0.5)));
    const q = g.node('MatMul', ['x', w]);
    const k = g.node('MatMul', ['x', w]);
    const s = g.node('MatMul', [q, g.node('Transpose', [k], { perm: [1, 0] })]);
    g.node('Mul', [s, g.f32('c', [], [0.25])], {}, ['y']);
    g.output('y');
    expect(loadOnnx(g.bytes()).optimizations.find((o) => o.name === 'attention-scale-folding')!.rewrites).toBe(0);
  });
});
