/**
 * Where PaddleOCR rec's dynamic int8 model (`quantizeModel`, default options, `roundingSamples` from 16 sample lines)
 * departs from float32 on generated text lines (bench/text-lines.ts): each line whose decoded (CTC) sequence differs,
 * with the rendered text, both reads and the frames whose argmax differs (the float32 model's top-1 probability and
 * runner-up there, the int8 model's class and probability), then the float32 confidence of agreeing and disagreeing
 * frames, and how many differing lines differ only by a leading or trailing space.
 * Run: `npm run build:ts && node dist/bench/text-lines-diff.js [--lines 200] [--line-seed 100] [--samples 16]
 * [--sample-seed 5000] [--font bitmap|dejavu] [--sample-font bitmap|dejavu]` (sample lines are seeded `--sample-seed`…,
 * measured lines `--line-seed`…; keep the two ranges apart).
 * @module
 */
import { quantizeModel } from '../src/index.js';
import { numFlag } from './measure.js';
import { ctcGreedy, ctcText, fontFlag, frameArgmax, lineFeed, recDict, recLines, textLine } from './text-lines.js';

const LINES = numFlag('--lines', 200);
const SAMPLES = numFlag('--samples', 16);
const FONT = fontFlag('--font');
const SAMPLE_FONT = fontFlag('--sample-font', FONT);
const SAMPLE_SEED = numFlag('--sample-seed', 5000);
const LINE_SEED = numFlag('--line-seed', 100);
const W = 320;

/** The top two classes of frame `f` of probabilities [T, C] and their values. */
function top2(p: Float32Array, f: number, c: number): [number, number, number, number] {
  let a = 0, b = 1;
  if (p[f * c + b] > p[f * c + a]) [a, b] = [b, a];
  for (let k = 2; k < c; k++) {
    const v = p[f * c + k];
    if (v > p[f * c + a]) [a, b] = [k, a];
    else if (v > p[f * c + b]) b = k;
  }
  return [a, p[f * c + a], b, p[f * c + b]];
}

function main() {
  const { path, f32, lines } = recLines(LINES, W, FONT, LINE_SEED);
  const dict = recDict(path);
  const name = (k: number) => (k === 0 ? '∅' : JSON.stringify(ctcText([k], dict)));
  const q = quantizeModel(f32, { mode: 'dynamic', ...(SAMPLES > 0 ? { roundingSamples: Array.from({ length: SAMPLES }, (_, i) => lineFeed(SAMPLE_SEED + i, W, SAMPLE_FONT)) } : {}) });
  console.log(`PaddleOCR rec, ${LINES} ${FONT} lines (seeds ${LINE_SEED}…), int8 rounding on ${SAMPLES} ${SAMPLE_FONT} sample lines (seeds ${SAMPLE_SEED}…)`);
  const bins = [0.5, 0.7, 0.9, 0.99, 1.01];
  const hist = (label: string, xs: number[]) =>
    `${label} (${xs.length}): ` + bins.map((hi, i) => `${i ? bins[i - 1] : 0}–${Math.min(1, hi)}: ${xs.filter((x) => x < hi && x >= (i ? bins[i - 1] : 0)).length}`).join(', ');
  const agreeP: number[] = [], differP: number[] = [];
  let differ = 0, spaceOnly = 0, readDiff = 0;
  lines.forEach((feed, i) => {
    const a = Object.values(f32.run(feed))[0], b = Object.values(q.run(feed))[0];
    const [, t, c] = a.shape;
    const pa = a.data as Float32Array, pb = b.data as Float32Array;
    const ia = frameArgmax(pa, t, c), ib = frameArgmax(pb, t, c);
    const frames: string[] = [];
    for (let f = 0; f < t; f++) {
      const [k1, p1, k2, p2] = top2(pa, f, c);
      if (ia[f] === ib[f]) {
        agreeP.push(p1);
        continue;
      }
      differP.push(p1);
      frames.push(`  frame ${f}: f32 ${name(k1)} ${p1.toFixed(3)} (then ${name(k2)} ${p2.toFixed(3)}), int8 ${name(ib[f])} ${pb[f * c + ib[f]].toFixed(3)}`);
    }
    const ta = ctcText(ctcGreedy(ia), dict), tb = ctcText(ctcGreedy(ib), dict);
    if (ta === tb) return;
    differ++;
    if (ta.trim() === tb.trim()) spaceOnly++;
    else readDiff++;
    console.log(`line ${LINE_SEED + i} ${JSON.stringify(textLine(LINE_SEED + i, W, { font: FONT }).text)}: f32 ${JSON.stringify(ta)}, int8 ${JSON.stringify(tb)}`);
    for (const s of frames) console.log(s);
  });
  console.log(`${differ}/${LINES} lines decode differently: ${spaceOnly} only by a leading or trailing space, ${readDiff} in the text itself`);
  console.log(hist('f32 top-1 probability of frames where int8 agrees', agreeP));
  console.log(hist('f32 top-1 probability of frames where int8 differs', differP));
}

main();
