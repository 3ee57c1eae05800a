/**
 * The floor of issue #17's strict line measure for PaddleOCR rec: how many generated DejaVu text lines keep float32's
 * decoded sequence when the weights int8 quantizes (every groups-1 Conv, batch norms folded, and every MatMul/Gemm:
 * the set `quantizeModel` picks in 'dynamic' mode) get seeded random noise shaped like a rounding, against what the
 * real roundings (float16, int8) give on the same lines; then a census of float32's near-tie frames and which lines
 * each model flips.
 * Perturbations (`--levels`, comma-separated; each scored with `--seeds` noise seeds 1…N):
 * - `f16n`: uniform relative noise ±2^-11 per weight (float16 rounding's largest relative error);
 * - `qX` (e.g. `q1`, `q0.25`): uniform noise ±X·0.5·step per weight, step = absmax/127 of its output channel (`q1` is
 *   the size of int8 per-channel rounding);
 * deterministic references (`--refs`): `f16all` float16 weights everywhere (`convertModel`, the floor quoted so far),
 * `f16r` float16 rounding of the int8 set only, `round` int8 per-channel plain rounding of the int8 set dequantized
 * to float32 (float32 activations); and the real int8 model (`quantizeModel` dynamic, default options, 16 DejaVu rounding
 * samples seeded s…s+15 for each s of `--cal-sets`).
 * Each model is scored against float32 on `--lines` lines from each seed of `--line-seeds` (DejaVu, width 320, as
 * rec-int8-calibration.js): strict (CTC sequences equal) / trimmed (equal without leading/trailing spaces) / share
 * of frames with float32's argmax, and the mean total-variation distance of the frames' probability vectors (the
 * output drift). The census counts frames whose float32 top-1 − top-2 probability margin is below each of `--margins`,
 * the lines holding one, the share of frames per margin bin whose argmax each perturbation flips, and lists every line
 * a float16, int8 or `f16n` model decodes differently with its smallest margin and how often each model flips it.
 * Run: `npm run build:ts && node dist/bench/rec-int8-floor.js [--levels f16n,q0.25,q0.5,q1,q2] [--seeds 8]
 * [--refs f16all,f16r,round] [--cal-sets 5000,6000,7000,8000,9000,10000,11000] [--line-seeds 100,300] [--lines 200]
 * [--margins 0.01,0.05,0.1,0.2] [--wo]` (`--wo`: also each calibration set's int8 model with
 * `convForm: 'weight-only'`, float32 conv inputs: how much of the drift the conv activations' quantization adds). Everything is deterministic (no timing is reported but build times).
 * @module
 */
import { loadavg } from 'node:os';
import { convertModel, quantizeModel, type OnnxFeed, type OnnxModel } from '../src/index.js';
import { editOf, modelOf } from '../src/onnx/export.js';
import { foldBatchNorm } from '../src/onnx/transform/fold.js';
import { attrI } from '../src/onnx/transform/proto.js';
import { rne, weightNodes } from '../src/onnx/transform/quantize.js';
import { rng } from '../src/random.js';
import { flag, median, numFlag } from './measure.js';
import { ctcGreedy, frameArgmax, lineFeed, recLines, trimSpaces } from './text-lines.js';
import { fromF16Bits, toF16Bits } from './trials.js';

const W = 320;
const list = (name: string, def: string) => flag(name, def).split(',').filter((s) => s !== '');
const LEVELS = list('--levels', 'f16n,q0.25,q0.5,q1,q2');
const SEEDS = numFlag('--seeds', 8);
const REFS = list('--refs', 'f16all,f16r,round');
const CAL_SETS = list('--cal-sets', '5000,6000,7000,8000,9000,10000,11000').map(Number);
const LINE_SEEDS = list('--line-seeds', '100,300').map(Number);
const LINES = numFlag('--lines', 200);
const MARGINS = list('--margins', '0.01,0.05,0.1,0.2').map(Number);
const WO = process.argv.includes('--wo');
const DRIFT_BINS = [0, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 8e-3, 1.2e-2, Infinity];

for (const l of LEVELS) if (l !== 'f16n' && !/^q\d*\.?\d+$/.test(l)) throw new RangeError(`--levels: '${l}' is not 'f16n' or qX (X a number)`);
for (const r of REFS) if (!['f16all', 'f16r', 'round'].includes(r)) throw new RangeError(`--refs: '${r}' is not one of f16all, f16r, round`);
for (const n of [...CAL_SETS, ...LINE_SEEDS, SEEDS, LINES]) if (!Number.isInteger(n) || n < 0) throw new RangeError(`--cal-sets, --line-seeds, --seeds and --lines take non-negative integers, got ${n}`);
if (MARGINS.some((m) => !(m > 0 && m < 1))) throw new RangeError(`--margins must lie in (0, 1), got ${MARGINS.join(',')}`);

/** Nearest float16 value (ties to even) of a float32 value, through the bench's half conversion. */
const f16round = (x: number) => fromF16Bits(toF16Bits(x));

/**
 * float32 model with every weight int8 would quantize replaced by `f(w, step)` (step = absmax/127 of the weight's
 * output channel, as `quantizeModel` scales it; batch norms folded first, as it does).
 */
function perturbed(f32: OnnxModel, f: (w: number, step: number) => number): OnnxModel {
  const m = editOf('bench', f32);
  foldBatchNorm(m);
  const done = new Set<string>();
  for (const t of weightNodes(m)) {
    const n = t.node, name = n.input[1] as string;
    if ((n.opType === 'Conv' && attrI(n, 'group', 1) !== 1) || done.has(name)) continue;
    done.add(name);
    const d = t.w.data as Float32Array;
    // Output channel of element i: Conv W [M, …] and Gemm transB B [N, K] by row; MatMul / Gemm B [K, N] by column.
    const byRow = n.opType === 'Conv' || (n.opType === 'Gemm' && attrI(n, 'transB', 0) === 1);
    const ch = byRow ? t.w.shape[0] : t.w.shape[1], inner = t.w.size / ch;
    const chOf = byRow ? (i: number) => Math.floor(i / inner) : (i: number) => i % ch;
    const amax = new Float64Array(ch);
    for (let i = 0; i < d.length; i++) amax[chOf(i)] = Math.max(amax[chOf(i)], Math.abs(d[i]));
    const step = Float32Array.from(amax, (a) => (a > 0 ? a / 127 : 1));
    const out = Float32Array.from(d, (w, i) => f(w, step[chOf(i)]));
    m.setInit(name, { dtype: 'float32', shape: t.w.shape.slice(), data: out, size: out.length });
  }
  return modelOf(m);
}

/** The perturbation of level `l` with noise seed `seed`. */
function levelFn(l: string, seed: number): (w: number, step: number) => number {
  const r = rng(seed * 7919 + 17);
  if (l === 'f16n') return (w) => w * (1 + (2 * r() - 1) * 2 ** -11);
  const x = Number(l.slice(1));
  return (w, step) => w + (2 * r() - 1) * 0.5 * x * step;
}

/** One model's reading of every line: per-frame argmax and the mean total-variation distance to float32. */
interface Reading {
  ids: Int32Array[];
  tv: number;
}

/** float32's frames: argmax, top-1 − top-2 probability margin. */
interface RefLine {
  ids: Int32Array;
  margin: Float32Array;
  prob: Float32Array;
}

function main() {
  const { f32 } = recLines(0, W, 'dejavu');
  const feeds: Record<string, OnnxFeed>[] = [];
  const setOf: number[] = [];
  for (const l of LINE_SEEDS)
    for (let i = 0; i < LINES; i++) {
      feeds.push(lineFeed(l + i, W, 'dejavu'));
      setOf.push(l);
    }
  const seedOf = (i: number) => LINE_SEEDS[Math.floor(i / LINES)] + (i % LINES);
  console.log(`PaddleOCR rec 1×3×48×${W}; ${LINES} DejaVu lines from each of seeds ${LINE_SEEDS.join(', ')}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  // float32 reference: argmax, margins and probabilities (kept for the drift).
  const ref: RefLine[] = [];
  let space = 0, T = 0, C = 0;
  for (const f of feeds) {
    const a = Object.values(f32.run(f))[0];
    [, T, C] = a.shape as number[];
    space = C - 1;
    const p = Float32Array.from(a.data as Float32Array);
    const ids = frameArgmax(p, T, C), margin = new Float32Array(T);
    for (let t = 0; t < T; t++) {
      let second = 0;
      for (let k = 0; k < C; k++) if (k !== ids[t] && p[t * C + k] > second) second = p[t * C + k];
      margin[t] = p[t * C + ids[t]] - second;
    }
    ref.push({ ids, margin, prob: p });
  }
  const refSeq = ref.map((r) => ctcGreedy(r.ids));

  const read = (m: OnnxModel): Reading => {
    let tv = 0;
    const ids = feeds.map((f, i) => {
      const a = Object.values(m.run(f))[0], p = a.data as Float32Array, q = ref[i].prob;
      for (let j = 0; j < p.length; j++) tv += Math.abs(p[j] - q[j]);
      return frameArgmax(p, T, C);
    });
    return { ids, tv: tv / 2 / (feeds.length * T) };
  };

  /** Per line: strict and trimmed flip, frames agreeing. */
  const judge = (r: Reading) =>
    r.ids.map((ids, i) => {
      const s = ctcGreedy(ids), w = refSeq[i];
      let agree = 0;
      for (let t = 0; t < T; t++) agree += ids[t] === ref[i].ids[t] ? 1 : 0;
      return { strict: s.join() !== w.join(), trimmed: trimSpaces(s, space).join() !== trimSpaces(w, space).join(), agree };
    });

  // Every scored model: its group (a level or reference), the per-line verdicts and drift.
  interface Scored { group: string; label: string; lines: ReturnType<typeof judge>; ids: Int32Array[]; tv: number }
  const scored: Scored[] = [];
  const score = (group: string, label: string, m: OnnxModel, t0: number) => {
    const r = read(m), lines = judge(r);
    scored.push({ group, label, lines, ids: r.ids, tv: r.tv });
    const per = LINE_SEEDS.map((l) => {
      const ls = lines.filter((_, i) => setOf[i] === l);
      return `${l}…: ${ls.filter((x) => !x.strict).length} / ${ls.filter((x) => !x.trimmed).length}, ${((100 * ls.reduce((a, x) => a + x.agree, 0)) / (ls.length * T)).toFixed(2)} %`;
    });
    console.log(`${label}: ${per.join('; ')}; drift ${r.tv.toExponential(2)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  };

  for (const r of REFS) {
    const t0 = performance.now();
    if (r === 'f16all') score('f16all', 'float16 weights everywhere (convertModel)', convertModel(f32, { dtype: 'float16' }), t0);
    else if (r === 'f16r') score('f16r', 'float16 rounding of the int8 set only', perturbed(f32, f16round), t0);
    else score('round', 'int8 per-channel plain rounding, float32 activations', perturbed(f32, (w, s) => Math.fround(Math.min(127, Math.max(-127, rne(w / s))) * s)), t0);
  }
  for (const set of CAL_SETS) {
    const t0 = performance.now();
    const samples = Array.from({ length: 16 }, (_, i) => lineFeed(set + i, W, 'dejavu'));
    score('int8', `int8 (quantizeModel dynamic, 16 samples from ${set})`, quantizeModel(f32, { mode: 'dynamic', roundingSamples: samples }), t0);
    if (!WO) continue;
    const t1 = performance.now();
    score('int8-wo', `int8 convs weight-only (float32 conv inputs), 16 samples from ${set}`, quantizeModel(f32, { mode: 'dynamic', convForm: 'weight-only', roundingSamples: samples }), t1);
  }
  for (const l of LEVELS)
    for (let s = 1; s <= SEEDS; s++) {
      const t0 = performance.now();
      score(l, `${l} seed ${s}`, perturbed(f32, levelFn(l, s)), t0);
    }

  // Per group: min–max (median) of strict and trimmed per line set and over all lines, frames, drift.
  const groups = [...new Set(scored.map((s) => s.group))];
  const mmm = (xs: number[], d = 0) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)} (${median(xs).toFixed(d)})`;
  const cnt = (s: Scored, l: number | null, k: 'strict' | 'trimmed') => s.lines.filter((x, i) => (l === null || setOf[i] === l) && !x[k]).length;
  console.log(`\n| model | n | ${LINE_SEEDS.map((l) => `${l}–${l + LINES - 1} strict | trimmed`).join(' | ')} | all strict | all trimmed | frames % | drift (mean TV) |`);
  console.log(`|---|---|${LINE_SEEDS.map(() => '---|---|').join('')}---|---|---|---|`);
  for (const g of groups) {
    const ss = scored.filter((s) => s.group === g);
    const cells = LINE_SEEDS.map((l) => `${mmm(ss.map((s) => cnt(s, l, 'strict')))} | ${mmm(ss.map((s) => cnt(s, l, 'trimmed')))}`);
    const fr = ss.map((s) => (100 * s.lines.reduce((a, x) => a + x.agree, 0)) / (s.lines.length * T));
    console.log(`| ${g} | ${ss.length} | ${cells.join(' | ')} | ${mmm(ss.map((s) => cnt(s, null, 'strict')))} | ${mmm(ss.map((s) => cnt(s, null, 'trimmed')))} | ${mmm(fr, 2)} | ${mmm(ss.map((s) => s.tv * 1e4), 1)}e-4 |`);
  }

  // Strict count against output drift, every model binned by its drift: does int8 sit on the noise's curve?
  console.log(`\nStrict lines (all ${feeds.length}) by output drift (mean TV), min–max (median) per group in the bin:`);
  console.log(`| drift ×1e-4 | ${groups.join(' | ')} |`);
  console.log(`|---|${groups.map(() => '---|').join('')}`);
  for (let b = 0; b + 1 < DRIFT_BINS.length; b++) {
    const cells = groups.map((g) => {
      const xs = scored.filter((s) => s.group === g && s.tv >= DRIFT_BINS[b] && s.tv < DRIFT_BINS[b + 1]).map((s) => cnt(s, null, 'strict'));
      return xs.length ? `${mmm(xs)} n ${xs.length}` : '';
    });
    if (cells.some((c) => c)) console.log(`| ${DRIFT_BINS[b] * 1e4}–${DRIFT_BINS[b + 1] * 1e4} | ${cells.join(' | ')} |`);
  }

  // Census of near-tie frames.
  console.log(`\nNear-tie census (float32 top-1 − top-2 probability margin < m), ${feeds.length} lines × ${T} frames:`);
  console.log(`| m | ${LINE_SEEDS.map((l) => `frames ${l}… | lines ${l}…`).join(' | ')} | frames all | lines all |`);
  console.log(`|---|${LINE_SEEDS.map(() => '---|---|').join('')}---|---|`);
  const minMargin = ref.map((r) => Math.min(...r.margin));
  for (const m of MARGINS) {
    const cells = LINE_SEEDS.map((l) => {
      const idx = ref.map((_, i) => i).filter((i) => setOf[i] === l);
      return `${idx.reduce((a, i) => a + ref[i].margin.filter((x) => x < m).length, 0)} | ${idx.filter((i) => minMargin[i] < m).length}`;
    });
    console.log(`| ${m} | ${cells.join(' | ')} | ${ref.reduce((a, r) => a + r.margin.filter((x) => x < m).length, 0)} | ${minMargin.filter((x) => x < m).length} |`);
  }

  // Share of frames per margin bin whose argmax each group flips (averaged over its models).
  const edges = [0, ...MARGINS, 0.5, 1.01];
  console.log(`\nFrames flipped per float32 margin bin (flips / frames in bin, summed over the group's models):`);
  console.log(`| model | ${edges.slice(0, -1).map((e, i) => `${e}–${Math.min(1, edges[i + 1])}`).join(' | ')} |`);
  console.log(`|---|${edges.slice(0, -1).map(() => '---|').join('')}`);
  const binOf = (x: number) => edges.findIndex((e, i) => x >= e && x < edges[i + 1]);
  const inBin = new Array(edges.length - 1).fill(0);
  for (const r of ref) for (const x of r.margin) inBin[binOf(x)]++;
  console.log(`| frames in bin | ${inBin.join(' | ')} |`);
  for (const g of groups) {
    const ss = scored.filter((s) => s.group === g), flips = new Array(edges.length - 1).fill(0);
    for (const s of ss) s.ids.forEach((ids, i) => ids.forEach((k, t) => (flips[binOf(ref[i].margin[t])] += k !== ref[i].ids[t] ? 1 : 0)));
    console.log(`| ${g} (${ss.length}) | ${flips.map((f, b) => (inBin[b] ? `${f} (${((100 * f) / (inBin[b] * ss.length)).toFixed(1)} %)` : '–')).join(' | ')} |`);
  }

  // Every line some model decodes differently: its smallest float32 margin and how many models of each group flip it.
  const flipped = feeds.map((_, i) => i).filter((i) => scored.some((s) => s.lines[i].strict));
  const listed = flipped.filter((i) => scored.some((s) => !/^q/.test(s.group) && s.lines[i].strict));
  console.log(`\nLines some model decodes differently (strict): ${flipped.length}; listed: the ${listed.length} a float16 or int8 model (or f16n noise) flips; per group: flips / models (t: also trimmed)`);
  console.log(`| line | min margin | ${groups.join(' | ')} |`);
  console.log(`|---|---|${groups.map(() => '---|').join('')}`);
  for (const i of listed.sort((a, b) => minMargin[a] - minMargin[b])) {
    const cells = groups.map((g) => {
      const ss = scored.filter((s) => s.group === g), n = ss.filter((s) => s.lines[i].strict).length, t = ss.filter((s) => s.lines[i].trimmed).length;
      return n ? `${n}/${ss.length}${t ? ` (t ${t})` : ''}` : '';
    });
    console.log(`| ${seedOf(i)} | ${minMargin[i].toFixed(3)} | ${cells.join(' | ')} |`);
  }
  // Overlap: the lines each group flips in at least one model, and how many of them the int8 models also flip.
  const union = (g: string) => new Set(flipped.filter((i) => scored.some((s) => s.group === g && s.lines[i].strict)));
  const i8 = union('int8');
  console.log(`\n| model | lines flipped by any of its models | of them also flipped by some int8 model | min margin of those lines: < ${MARGINS.join(' / < ')} |`);
  console.log('|---|---|---|---|');
  for (const g of groups) {
    const u = [...union(g)];
    console.log(`| ${g} | ${u.length} | ${u.filter((i) => i8.has(i)).length} | ${MARGINS.map((m) => u.filter((i) => minMargin[i] < m).length).join(' / ')} |`);
  }
}

main();
