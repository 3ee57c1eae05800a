/**
 * The ONNX model transforms, measured: the BERT-style encoder of the tests (2 layers, hidden 384, 12 heads, FFN
 * 1536, seq 128) in float32, after `quantizeModel(model, { mode: 'dynamic' })`, after 2:4 pruning and after float16
 * weights — file size, and per-run process CPU time on one thread in simdtensor and onnxruntime-node (the
 * contenders alternate within each round; figures are medians over rounds, ratios from the same run).
 * Then, per pruned weight of that model (2:4 and 90 % unstructured), the dense packed GEMM against the sparse
 * kernels (`linear` with a SparseTensor: 'auto' = the measured dense fallback's choice, and forced 'sparse'), M = 128
 * rows — what a runtime hook for pruned MatMuls would gain.
 * Run: `npm run build:ts && node dist/bench/trials-onnx-optimize.js [--rounds N]`.
 * @module
 */
import { convertModel, lastSparseKernel, linear, loadOnnx, packWeights, pruneModel, quantizeModel, setNumThreads, Tensor, toOnnxBytes, toSparse, type OnnxModel } from '../src/index.js';
import { createRequire } from 'node:module';
import { bertModel } from './onnx-models.js';
import { cpuPerCall, median, numFlag } from './measure.js';

const arg = numFlag;
const ROUNDS = arg('--rounds', 9);
const SEQ = arg('--seq', 128);

const cpu = cpuPerCall;

async function main() {
  setNumThreads(1);
  const ort = await import('onnxruntime-node');
  const f32 = loadOnnx(bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 }));
  const variants: [string, OnnxModel][] = [
    ['f32', f32],
    ['int8 dynamic', quantizeModel(f32, { mode: 'dynamic' })],
    ['prune 2:4', pruneModel(f32, { pattern: '2:4' })],
    ['float16 weights', convertModel(f32, { dtype: 'float16' })],
  ];
  for (const batch of [1, 8]) {
    const ids = BigInt64Array.from({ length: batch * SEQ }, (_, i) => BigInt((i * 37 + 11) % 1000));
    const mask = new BigInt64Array(batch * SEQ).fill(1n);
    const feeds = { input_ids: { data: ids, dims: [batch, SEQ] }, attention_mask: { data: mask, dims: [batch, SEQ] } };
    const ofeeds = { input_ids: new ort.Tensor('int64', ids, [batch, SEQ]), attention_mask: new ort.Tensor('int64', mask, [batch, SEQ]) };
    const rows: { name: string; bytes: number; ours: number[]; ort: number[] }[] = [];
    const sessions: { run(f: unknown): Promise<unknown>; release(): Promise<void> }[] = [];
    for (const [name, m] of variants) {
      const bytes = toOnnxBytes(m);
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      sessions.push(s);
      m.run(feeds);
      await s.run(ofeeds);
      rows.push({ name, bytes: bytes.length, ours: [], ort: [] });
    }
    const reps = batch === 1 ? 8 : 2;
    for (let r = 0; r < ROUNDS; r++) {
      for (let v = 0; v < variants.length; v++) {
        const k = (v + r) % variants.length;
        rows[k].ours.push(await cpu(() => variants[k][1].run(feeds), reps));
        rows[k].ort.push(await cpu(() => sessions[k].run(ofeeds), reps));
      }
    }
    const base = median(rows[0].ours);
    console.log(`batch ${batch}, seq ${SEQ}, one thread, process CPU ms per run (median of ${ROUNDS} rounds)`);
    for (const row of rows) {
      const o = median(row.ours), t = median(row.ort);
      console.log(`  ${row.name.padEnd(16)} ${(row.bytes / 1048576).toFixed(2).padStart(6)} MiB  simdtensor ${o.toFixed(2).padStart(7)}  (${(base / o).toFixed(2)}× f32)  onnxruntime ${t.toFixed(2).padStart(7)}  ours/ort ${(t / o).toFixed(2)}×`);
    }
    for (const s of sessions) await s.release();
  }
}
/** The pruned BERT weights: dense packed GEMM vs the sparse kernels, one thread, M = 128. */
async function sparseCheck() {
  setNumThreads(1);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const onnx: any = (createRequire(import.meta.url)('onnx-proto') as { onnx: unknown }).onnx;
  const f32 = loadOnnx(bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 }));
  const M = 128;
  for (const [label, opts, fmt] of [['2:4', { pattern: '2:4' }, { format: 'nm' as const, nm: [2, 4] as const }], ['90 % unstructured', { sparsity: 0.9 }, { format: 'csr' as const }]] as const) {
    const g = onnx.ModelProto.decode(toOnnxBytes(pruneModel(f32, opts))).graph;
    const ws = (g.initializer as { name: string; dims: unknown[]; rawData: Uint8Array }[]).filter((t) => /^l0\.[qif]\.w$/.test(t.name));
    for (const t of ws) {
      const [k, n] = t.dims.map(Number);
      const b = new Float32Array(new Uint8Array(t.rawData).buffer);
      const w = new Float32Array(n * k); // [out, in]
      for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) w[j * k + i] = b[i * n + j];
      const wt = new Tensor(w, [n, k], 'float32', w.length);
      const x = new Tensor(Float32Array.from({ length: M * k }, (_, i) => Math.sin(i)), [M, k], 'float32', M * k);
      const packed = packWeights(wt);
      const sp = toSparse(wt, fmt);
      const dense: number[] = [], auto: number[] = [], forced: number[] = [];
      let chosen = '';
      for (let r = 0; r < ROUNDS; r++) {
        dense.push(await cpu(() => linear(x, packed), 4));
        auto.push(await cpu(() => linear(x, sp, null, { sparseKernel: 'auto' }), 4));
        chosen = lastSparseKernel();
        forced.push(await cpu(() => linear(x, sp, null, { sparseKernel: 'sparse' }), 4));
      }
      const d = median(dense), a = median(auto), f = median(forced);
      console.log(`  ${label.padEnd(18)} ${t.name} [${n}×${k}]  dense ${d.toFixed(3)} ms  auto ${a.toFixed(3)} ms (${chosen})  sparse ${f.toFixed(3)} ms  dense/sparse ${(d / f).toFixed(2)}×`);
    }
  }
}

await main();
if (!process.argv.includes('--no-sparse')) await sparseCheck();
