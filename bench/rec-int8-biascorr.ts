/**
 * Empirical bias correction of PaddleOCR rec's dynamic int8 model with the int8 model in the loop (the empirical form
 * of Nagel et al. 2019, "Data-Free Quantization", §4.2): after `quantizeModel` (default options, `roundingSamples`),
 * the bias of every int8 layer (ConvInteger / MatMulInteger followed by a constant bias Add) is moved by the
 * per-channel mean of float32 output − int8 output over the sample lines, so the int8 model's outputs keep the float
 * model's mean. `--mode seq` corrects the layers one at a time in graph order, each measured on the int8 model with
 * the earlier corrections in place (the later layers see the corrected inputs); `--mode once` measures all layers on
 * the uncorrected model and corrects them together. Scored like bench/rec-int8-calibration.ts (strict / trimmed /
 * every space dropped, frames) on each measured line set, before and after. Counts are deterministic.
 * Run: `npm run build:ts && node dist/bench/rec-int8-biascorr.js [--samples 16] [--sample-seed 5000] [--mode seq|once]
 * [--line-seeds 100,300] [--lines 200] [--font dejavu|bitmap] [--layers conv|all]`.
 * @module
 */
import { quantizeModel, type OnnxFeed, type OnnxModel } from '../src/index.js';
import { editOf, modelOf } from '../src/onnx/export.js';
import type { EditModel, Msg } from '../src/onnx/transform/proto.js';
import { flag, numFlag } from './measure.js';
import { countsText, fontFlag, lineCounts, lineFeed, recLines } from './text-lines.js';

const W = 320;
const SAMPLES = numFlag('--samples', 16);
const SAMPLE_SEED = numFlag('--sample-seed', 5000);
const MODE = flag('--mode', 'seq');
const LAYERS = flag('--layers', 'conv');
const LINE_SEEDS = flag('--line-seeds', '100,300').split(',').map(Number);
const LINES = numFlag('--lines', 200);
const FONT = fontFlag('--font', 'dejavu');

/** An int8 layer's float output `y` and its bias initializer (shape [C, 1, 1] for a conv, [C] for a MatMul). */
interface Target {
  y: string;
  bias: string;
  conv: boolean;
}

/** The int8 layers of `m` whose dequantized result goes through an Add of a constant float32 bias, in graph order. */
function targets(m: EditModel): Target[] {
  const producer = new Map<string, Msg>();
  for (const n of m.nodes) for (const o of n.output) producer.set(o, n);
  const res: Target[] = [];
  for (const n of m.nodes) {
    if (n.opType !== 'Add') continue;
    const mul = producer.get(n.input[0]);
    const cast = mul?.opType === 'Mul' ? producer.get(mul.input[0]) : undefined;
    const int = cast?.opType === 'Cast' ? producer.get(cast.input[0]) : undefined;
    const b = m.constValue(n.input[1]);
    if (!int || !b || b.dtype !== 'float32') continue;
    if (int.opType === 'ConvInteger' || (LAYERS === 'all' && int.opType === 'MatMulInteger' && b.shape.length === 1)) res.push({ y: n.output[0], bias: n.input[1], conv: int.opType === 'ConvInteger' });
  }
  return res;
}

/** Per-channel means of each target's output over the samples (channel axis 1 for a conv, the last for a MatMul). */
function channelMeans(m: EditModel, ts: Target[], samples: Record<string, OnnxFeed>[]): Float64Array[] {
  const outs = m.graph.output as Msg[];
  const had = new Set(outs.map((o) => o.name));
  for (const t of ts) if (!had.has(t.y)) outs.push({ name: t.y, type: { tensorType: { elemType: 1 } } });
  const probe: OnnxModel = modelOf(m);
  m.graph.output = outs.filter((o) => had.has(o.name));
  const sums: Float64Array[] = [], counts: number[] = ts.map(() => 0);
  for (const f of samples) {
    const o = probe.run(f) as unknown as Record<string, { data: Float32Array; shape: number[] }>;
    ts.forEach((t, i) => {
      const { data, shape } = o[t.y];
      const c = t.conv ? shape[1] : shape[shape.length - 1];
      const inner = t.conv ? data.length / (shape[0] * c) : 1;
      sums[i] ??= new Float64Array(c);
      for (let k = 0; k < data.length; k++) sums[i][t.conv ? Math.floor(k / inner) % c : k % c] += data[k];
      counts[i] += data.length / c;
    });
  }
  return sums.map((s, i) => s.map((v) => v / counts[i]));
}

function main() {
  if (MODE !== 'seq' && MODE !== 'once') throw new RangeError(`--mode must be 'seq' or 'once', got '${MODE}'`);
  if (LAYERS !== 'conv' && LAYERS !== 'all') throw new RangeError(`--layers must be 'conv' or 'all', got '${LAYERS}'`);
  const { f32 } = recLines(0, W, FONT);
  const samples = Array.from({ length: SAMPLES }, (_, i) => lineFeed(SAMPLE_SEED + i, W, FONT));
  const q = quantizeModel(f32, { mode: 'dynamic', roundingSamples: samples });
  const qe = editOf('bench', q);
  const ts = targets(qe);
  const want = channelMeans(editOf('bench', f32), ts, samples);
  const shift = (i: number, got: Float64Array) => {
    const b = qe.constValue(ts[i].bias)!;
    const d = Float32Array.from(b.data as Float32Array, (v, c) => v + (want[i][c] - got[c]));
    let moved = 0;
    for (let c = 0; c < d.length; c++) moved = Math.max(moved, Math.abs(want[i][c] - got[c]));
    qe.setInit(ts[i].bias, { ...b, data: d });
    return moved;
  };
  const t0 = performance.now();
  if (MODE === 'once') channelMeans(qe, ts, samples).forEach((got, i) => shift(i, got));
  else
    for (let i = 0; i < ts.length; i++) {
      const moved = shift(i, channelMeans(qe, [ts[i]], samples)[0]);
      if (process.argv.includes('--verbose')) console.log(`${ts[i].y}: largest mean shift ${moved.toExponential(2)}`);
    }
  const fixed = modelOf(qe);
  console.log(`PaddleOCR rec, dynamic int8 with ${SAMPLES} ${FONT} rounding samples (seeds ${SAMPLE_SEED}…); bias correction '${MODE}' of ${ts.length} layers (${LAYERS}) on the same samples, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const l of LINE_SEEDS) {
    const count = lineCounts(f32, Array.from({ length: LINES }, (_, i) => lineFeed(l + i, W, FONT)));
    console.log(`lines ${l}…: int8 ${countsText(count(q))}; corrected ${countsText(count(fixed))}`);
  }
}

main();
