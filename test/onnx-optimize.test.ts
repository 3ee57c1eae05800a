import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { calibrate, loadOnnx, quantizeModel, saveOnnx, toOnnxBytes, type OnnxModel } from '../src/index.js';
import { bertModel, G, maxDiff, ortRun, randArr, T } from './onnx-build.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const onnx: any = (require('onnx-proto') as { onnx: unknown }).onnx;

const BERT = { layers: 2, hidden: 128, heads: 4, ffn: 512, vocab: 300, form: 'decomposed' as const, opset: 14 };

function bertFeeds(batch: number, seq: number, vocab: number) {
  const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 37 + 11) % vocab));
  const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - 2 - (i % 3) ? 1n : 0n));
  return {
    ours: { input_ids: { data: ids, dims: [batch, seq] }, attention_mask: { data: mask, dims: [batch, seq] } },
    ort: { input_ids: { type: 'int64', data: ids, dims: [batch, seq] }, attention_mask: { type: 'int64', data: mask, dims: [batch, seq] } },
  };
}

/** An MLP: Gemm(transB) → Relu → MatMul + Add → Relu → Gemm(alpha, beta) → Softmax. */
function mlpModel(opset = 13, fin = 64, h = 96, out = 10): Uint8Array {
  const g = new G(opset);
  const x = g.input('x', T.FLOAT, ['batch', fin]);
  const h1 = g.node('Relu', [g.node('Gemm', [x, g.f32('w1', [h, fin], randArr(h * fin, 1, 0.2)), g.f32('b1', [h], randArr(h, 2, 0.1))], { transB: 1 })]);
  const h2 = g.node('Relu', [g.node('Add', [g.node('MatMul', [h1, g.f32('w2', [h, h], randArr(h * h, 3, 0.15))]), g.f32('b2', [h], randArr(h, 4, 0.1))])]);
  const logits = g.node('Gemm', [h2, g.f32('w3', [h, out], randArr(h * out, 5, 0.2)), g.f32('b3', [out], randArr(out, 6, 0.1))], { alpha: { __f: 0.5 } as never, beta: { __f: 2 } as never });
  g.node('Softmax', [logits], { axis: -1 }, ['probs']);
  g.output('probs', T.FLOAT, ['batch', out]);
  return g.bytes();
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

function opCounts(bytes: Uint8Array): Record<string, number> {
  const m = onnx.ModelProto.decode(bytes);
  const c: Record<string, number> = {};
  for (const n of m.graph.node) c[n.opType] = (c[n.opType] ?? 0) + 1;
  return c;
}

const xFeed = (batch: number, fin = 64, seed = 9) => {
  const data = randArr(batch * fin, seed, 1);
  return { ours: { x: { data, dims: [batch, fin] } }, ort: { x: { type: 'float32', data, dims: [batch, fin] } } };
};

describe('saveOnnx / toOnnxBytes', () => {
  it('writes a BERT-style encoder that onnxruntime-node and loadOnnx both run with the same outputs', async () => {
    const model = loadOnnx(bertModel(BERT));
    const bytes = toOnnxBytes(model);
    const f = bertFeeds(2, 16, BERT.vocab);
    const ours = model.run(f.ours).last_hidden_state.data as Float32Array;
    const again = loadOnnx(bytes).run(f.ours).last_hidden_state.data as Float32Array;
    expect(Array.from(again)).toEqual(Array.from(ours));
    const ort = (await ortRun(bytes, f.ort)).last_hidden_state.data;
    const d = maxDiff(ours, ort);
    expect(d.abs).toBeLessThanOrEqual(1e-4 * d.ref);
  });

  it('saveOnnx writes the file and returns its size; bad arguments are named', () => {
    const model = loadOnnx(mlpModel());
    const dir = mkdtempSync(join(tmpdir(), 'st-onnx-'));
    const n = saveOnnx(model, join(dir, 'm.onnx'));
    expect(readFileSync(join(dir, 'm.onnx')).length).toBe(n);
    expect(() => saveOnnx(model, '' as never)).toThrow(/saveOnnx: path must be a non-empty string/);
    expect(() => toOnnxBytes({} as never)).toThrow(/toOnnxBytes: model must be an OnnxModel/);
    expect(() => saveOnnx(model, join(dir, 'missing', 'x.onnx'))).toThrow(/saveOnnx: cannot write/);
  });
});

describe('quantizeModel(onnxModel, { mode: "dynamic" })', () => {
  it('MLP (Gemm transB, MatMul, Gemm alpha/beta): onnxruntime runs the exported int8 graph; outputs agree', async () => {
    const f32 = loadOnnx(mlpModel());
    const q = quantizeModel(f32, { mode: 'dynamic' });
    const bytes = toOnnxBytes(q);
    const ops = opCounts(bytes);
    expect(ops.MatMulInteger).toBe(3);
    expect(ops.DynamicQuantizeLinear).toBe(3);
    expect(ops.Gemm ?? 0).toBe(0);
    expect(ops.MatMul ?? 0).toBe(0);
    const f = xFeed(5);
    const ours = q.run(f.ours).probs.data as Float32Array;
    const ort = (await ortRun(bytes, f.ort)).probs.data;
    const d = maxDiff(ours, ort);
    expect(d.abs).toBeLessThan(1e-5);
    const ref = f32.run(f.ours).probs.data as Float32Array;
    expect(maxDiff(ours, ref).abs).toBeLessThan(0.02);
    // The original is intact (still float32 GEMMs).
    expect(opCounts(toOnnxBytes(f32)).MatMulInteger ?? 0).toBe(0);
  });
});
