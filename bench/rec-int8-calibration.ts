/**
 * How PaddleOCR rec's dynamic int8 agreement with float32 depends on the rounding samples (`quantizeModel`'s
 * `roundingSamples`): for each sample count, sample font mix and disjoint set of sample seeds, the default dynamic
 * quantization is built and scored (bench/text-lines.ts `lineCounts`: CTC-identical lines strict and without
 * leading/trailing spaces, share of frames with the same argmax) on one or more sets of measured lines; then per
 * setting the min / median / max over the sample sets (each cell: strict / trimmed / every space dropped, PaddleOCR's
 * `RecMetric` form; frames); the float16-weights model first (the measure's floor). Counts are deterministic (no timing but quantizeModel's).
 * Run: `npm run build:ts && node dist/bench/rec-int8-calibration.js [--sizes 16,32,48,64] [--sets 5000,6000,7000]
 * [--mixes dejavu,mixed] [--line-seeds 100,300] [--lines 200] [--font dejavu|bitmap] [--conv integer|auto]`:
 * sample set `s` of size `n` is the lines seeded s … s+n−1 (keep the sets `n` apart so they are disjoint, and away from
 * the measured lines, seeded l … l+lines−1 for each `l` of `--line-seeds`); mix `dejavu` / `bitmap` draws every
 * sample in that font, `mixed` alternates them (even offsets dejavu, odd bitmap).
 * @module
 */
import { loadavg } from 'node:os';
import { convertModel, quantizeModel, type OnnxFeed } from '../src/index.js';
import { flag, median, numFlag } from './measure.js';
import { countsText, fontFlag, lineCounts, lineFeed, recLines, TEXT_LINE_FONTS, type LineCounts, type TextLineFont } from './text-lines.js';

const W = 320;
const list = (name: string, def: string) => flag(name, def).split(',').filter((s) => s !== '');
const SIZES = list('--sizes', '16,32,48,64').map(Number);
const SETS = list('--sets', '5000,6000,7000').map(Number);
const MIXES = list('--mixes', 'dejavu,mixed');
const LINE_SEEDS = list('--line-seeds', '100,300').map(Number);
const LINES = numFlag('--lines', 200);
const FONT = fontFlag('--font', 'dejavu');
const CONV = flag('--conv', 'integer');

/** The font of sample `i` of mix `mix`. */
function sampleFont(mix: string, i: number): TextLineFont {
  if (mix === 'mixed') return i % 2 === 0 ? 'dejavu' : 'bitmap';
  return mix as TextLineFont;
}

function main() {
  for (const m of MIXES) if (m !== 'mixed' && !TEXT_LINE_FONTS.includes(m as TextLineFont)) throw new RangeError(`--mixes: '${m}' is not one of ${[...TEXT_LINE_FONTS, 'mixed'].join(', ')}`);
  if (CONV !== 'integer' && CONV !== 'auto') throw new RangeError(`--conv must be 'integer' or 'auto', got '${CONV}'`);
  for (const n of [...SIZES, ...SETS, ...LINE_SEEDS]) if (!Number.isInteger(n) || n < 0) throw new RangeError(`--sizes, --sets and --line-seeds take non-negative integers, got ${n}`);
  const { f32 } = recLines(0, W, FONT);
  const measured = LINE_SEEDS.map((l) => ({ l, count: lineCounts(f32, Array.from({ length: LINES }, (_, i) => lineFeed(l + i, W, FONT))) }));
  console.log(`PaddleOCR rec 1×3×48×${W}, dynamic int8 (convForm '${CONV}'); measured: ${LINES} ${FONT} lines from seeds ${LINE_SEEDS.join(', ')}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const f16 = convertModel(f32, { dtype: 'float16' });
  console.log(`float16 weights (the floor): ${measured.map(({ l, count }) => `lines ${l}…: ${countsText(count(f16))}`).join('; ')}`);
  const rows: { size: number; mix: string; set: number; l: number; c: LineCounts }[] = [];
  for (const size of SIZES)
    for (const mix of MIXES)
      for (const set of SETS) {
        const samples: Record<string, OnnxFeed>[] = Array.from({ length: size }, (_, i) => lineFeed(set + i, W, sampleFont(mix, i)));
        const t0 = performance.now();
        const q = quantizeModel(f32, { mode: 'dynamic', roundingSamples: samples, ...(CONV === 'auto' ? { convForm: 'auto' as const } : {}) });
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        const parts = measured.map(({ l, count }) => {
          const c = count(q);
          rows.push({ size, mix, set, l, c });
          return `lines ${l}…: ${countsText(c)}`;
        });
        console.log(`${size} ${mix} samples from seed ${set} (quantizeModel ${s} s): ${parts.join('; ')}`);
      }
  const mmm = (xs: number[], d = 0) => [Math.min(...xs), median(xs), Math.max(...xs)].map((x) => x.toFixed(d)).join(' / ');
  console.log(`\n| samples | mix | measured lines | sets | strict min / median / max | trimmed min / median / max | no spaces min / median / max | frames % min / median / max |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const size of SIZES)
    for (const mix of MIXES) {
      const groups: [string, LineCounts[]][] = measured.map(({ l }) => [`${l}–${l + LINES - 1}`, rows.filter((r) => r.size === size && r.mix === mix && r.l === l).map((r) => r.c)]);
      if (measured.length > 1) {
        const both = SETS.map((set) => rows.filter((r) => r.size === size && r.mix === mix && r.set === set).map((r) => r.c));
        groups.push([`all ${LINES * measured.length}`, both.map((cs) => ({ strict: cs.reduce((a, c) => a + c.strict, 0), trimmed: cs.reduce((a, c) => a + c.trimmed, 0), noSpace: cs.reduce((a, c) => a + c.noSpace, 0), frames: cs.reduce((a, c) => a + c.frames, 0) / cs.length, lines: cs.reduce((a, c) => a + c.lines, 0) }))]);
      }
      for (const [label, cs] of groups)
        console.log(`| ${size} | ${mix} | ${label} | ${cs.length} | ${mmm(cs.map((c) => c.strict))} | ${mmm(cs.map((c) => c.trimmed))} | ${mmm(cs.map((c) => c.noSpace))} | ${mmm(cs.map((c) => 100 * c.frames), 2)} |`);
    }
}

main();
