/**
 * Per-op-kind time of the BERT-style encoder (bench/onnx-models.ts: 2 layers, hidden 384, 12 heads, FFN 1536,
 * seq 128), ours from `OnnxModel.profile` and onnxruntime-node's from its own profiler (`enableProfiling`, the
 * "Node" events' `dur`), one thread each, in one process: the median over `--runs` profiled runs of each node,
 * summed per op kind (wall time: both profilers time nodes with a wall clock, so state the load beside the figures).
 *
 *   node dist/bench/onnx-op-profile.js [--runs 21] [--batch 1,8] [--f32]
 * @module
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertModel } from './onnx-models.js';
import { flag, median } from './measure.js';

interface OrtEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

/** Per op kind: the sum over its nodes of each node's median time (ms). */
function byKind(perNode: Map<string, { op: string; ms: number[] }>): Map<string, number> {
  const m = new Map<string, number>();
  for (const { op, ms } of perNode.values()) m.set(op, (m.get(op) ?? 0) + median(ms));
  return m;
}

async function main(): Promise<void> {
  const st = await import('../src/index.js');
  const ort = await import('onnxruntime-node');
  st.setNumThreads(1);
  const runs = Number(flag('--runs', '21'));
  const batches = flag('--batch', '1,8').split(',').map(Number);
  const int8 = !process.argv.includes('--f32');
  const seq = 128;
  const bytes = bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14, int8 });
  console.log(`BERT ${int8 ? 'dynamic int8' : 'f32'}, ${runs} profiled runs each, one thread, load ${loadavg()[0].toFixed(1)}`);
  for (const batch of batches) {
    const n = batch * seq;
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 37 + 11) % 1000));
    const mask = BigInt64Array.from({ length: n }, (_, i) => (i % seq < seq - 8 ? 1n : 0n));
    const model = st.loadOnnx(bytes);
    const feeds = { input_ids: { data: ids, dims: [batch, seq] }, attention_mask: { data: mask, dims: [batch, seq] } };
    const dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableProfiling: true,
      profileFilePrefix: join(dir, 'ort'),
    });
    const ortFeeds = {
      input_ids: new ort.Tensor('int64', ids, [batch, seq]),
      attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
    };
    for (let i = 0; i < 3; i++) {
      model.run(feeds);
      await session.run(ortFeeds);
    }
    const ours = new Map<string, { op: string; ms: number[] }>();
    const total = { ours: [] as number[] };
    for (let r = 0; r < runs; r++) {
      const p = model.profile(feeds);
      total.ours.push(p.totalMs);
      for (const t of p.nodes) {
        const e = ours.get(t.node) ?? { op: t.op, ms: [] };
        e.ms.push(t.ms);
        ours.set(t.node, e);
      }
      await session.run(ortFeeds);
    }
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    const theirs = new Map<string, { op: string; ms: number[] }>();
    if (file) {
      const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as OrtEvent[];
      // The warm-up runs come first: keep each node's last `runs` kernel events.
      for (const e of events) {
        if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
        const name = e.name.slice(0, -'_kernel_time'.length);
        const x = theirs.get(name) ?? { op: e.args?.op_name ?? '?', ms: [] };
        x.ms.push(e.dur / 1000);
        theirs.set(name, x);
      }
      for (const x of theirs.values()) x.ms = x.ms.slice(-runs);
    }
    rmSync(dir, { recursive: true, force: true });
    const a = byKind(ours), b = byKind(theirs);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
    console.log(`batch ${batch}: ours ${sum(a).toFixed(2)} ms in nodes (run median ${median(total.ours).toFixed(2)} ms), onnxruntime ${sum(b).toFixed(2)} ms in nodes`);
    const fmt = (m: Map<string, number>) =>
      [...m.entries()].sort((p, q) => q[1] - p[1]).map(([op, ms]) => `${op} ${ms.toFixed(3)}`).join(', ');
    console.log(`  ours: ${fmt(a)}`);
    console.log(`  onnxruntime: ${fmt(b)}`);
  }
}

void main();
