/**
 * Per-op-kind profile of the BERT-style encoder (f32 or int8, one thread): simdtensor's `model.profile` against
 * onnxruntime-node's own profiler (`enableProfiling`), medians over runs of each kind's per-run total.
 * `node dist/bench/profile-bert.js [--batch 1] [--runs 41] [--int8] [--min]`
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadOnnx, setNumThreads } from '../src/index.js';
import { bertModel } from './onnx-models.js';

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : d;
};
const batch = Number(arg('--batch', '1')), runs = Number(arg('--runs', '41')), int8 = process.argv.includes('--int8');
const seq = 128;
// `--min`: the fastest run of each item instead of the median (on a loaded VM the minimum is the least disturbed).
const useMin = process.argv.includes('--min');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[useMin ? 0 : a.length >> 1];

const bytes = bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14, int8 });
const n = batch * seq;
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 37 + 11) % 1000));
const mask = BigInt64Array.from({ length: n }, (_, i) => (i % seq < seq - 8 ? 1n : 0n));

async function main(): Promise<void> {
  setNumThreads(1);
  const model = loadOnnx(bytes);
  const feeds = { input_ids: { data: ids, dims: [batch, seq] }, attention_mask: { data: mask, dims: [batch, seq] } };
  for (let i = 0; i < 5; i++) model.run(feeds);
  const ours = new Map<string, number[]>();
  const oursTot: number[] = [];
  for (let r = 0; r < runs; r++) {
    const p = model.profile(feeds);
    oursTot.push(p.totalMs);
    const per = new Map<string, number>();
    for (const t of p.nodes) {
      const key = t.op + (t.op === 'Linear' || t.op === 'Int8Linear' ? ` ${t.node}` : '');
      per.set(key, (per.get(key) ?? 0) + t.ms);
    }
    for (const [k, v] of per) (ours.get(k) ?? ours.set(k, []).get(k)!).push(v);
  }
  const ort = await import('onnxruntime-node');
  const prefix = `/tmp/bertf/ortprof-${process.pid}`;
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: prefix });
  const f = { input_ids: new ort.Tensor('int64', ids, [batch, seq]), attention_mask: new ort.Tensor('int64', mask, [batch, seq]) };
  for (let i = 0; i < 5 + runs; i++) await s.run(f);
  s.endProfiling();
  await s.release();
  const file = readdirSync('/tmp/bertf').map((x) => `/tmp/bertf/${x}`).find((x) => x.startsWith(prefix))!;
  const ev = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  rmSync(file);
  const runEv = ev.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(5);
  const ortTot = runEv.map((e) => e.dur / 1000);
  // Node events between model_run events: split by order (each run emits its nodes before its model_run event).
  const ortRuns: Map<string, number>[] = [];
  let cur = new Map<string, number>();
  for (const e of ev) {
    if (e.cat === 'Session' && e.name === 'model_run') {
      ortRuns.push(cur);
      cur = new Map();
    } else if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
      const op = e.args?.op_name ?? '?';
      const k = op === 'MatMul' || op === 'FusedMatMul' || op === 'Add' ? `${op} ${e.name.replace(/_kernel_time$/, '')}` : op;
      cur.set(k, (cur.get(k) ?? 0) + e.dur / 1000);
    }
  }
  const ortK = new Map<string, number[]>();
  for (const m of ortRuns.slice(5)) for (const [k, v] of m) (ortK.get(k) ?? ortK.set(k, []).get(k)!).push(v);
  console.log(`BERT ${int8 ? 'int8' : 'f32'} b${batch}, ${runs} runs, ${useMin ? 'minima' : 'medians'} (ms), load ${loadavg()[0].toFixed(1)}`);
  console.log(`ours total ${median(oursTot).toFixed(3)}  ort total ${median(ortTot).toFixed(3)}`);
  console.log('-- ours');
  for (const [k, v] of [...ours].sort((a, b) => median(b[1]) - median(a[1]))) console.log(`${k.padEnd(40)} ${median(v).toFixed(3)}`);
  console.log('-- ort');
  for (const [k, v] of [...ortK].sort((a, b) => median(b[1]) - median(a[1]))) console.log(`${k.padEnd(40)} ${median(v).toFixed(3)}`);
}
void main();
