/**
 * Weight-quantization schemes for PaddleOCR rec's int8 convs, simulated before any kernel is written: every
 * groups-1 conv's weight (batch norms folded) is quantized with the scheme under test and dequantized back to
 * float32 in the file, the MatMuls are int8 as `quantizeModel` writes them (GPTQ-rounded), and the conv inputs are
 * fake-quantized with an activation scheme of bench/actq-hook.ts. Counts CTC-identical lines and per-frame argmax
 * agreement with float32 over `--lines` generated text lines (seeds 100…), calibrating on `--samples` other lines
 * (seeds 5000…, or `--cal-seed`), and gives the file-size ratio the scheme would have (f32 file / int8 file with its scales).
 * Weight scheme: tokens joined by `+` — `pc` per output channel, absmax (the default, and alone: plain rounding);
 * `g32` / `g64` / `g128` one scale per channel and block of that many inputs along K = C·kh·kw; `f16s` scales
 * stored float16; `mse` / `hmse` per-scale clipping that minimizes the squared weight error (plain, or weighted by
 * the diagonal of Σ x·xᵀ); `gptq` error-compensating rounding (every conv, im2col inputs for k×k ones; with `pw`
 * pointwise convs only, as `roundingSamples` does); `ls` local search of the integers on the layer's output error
 * (AdaRound's objective); `ada` AdaRound itself (relaxed rounding, Adam, annealed regularizer; from plain
 * rounding's floor); `bc` per-channel bias correction (W − Ŵ)·E[x]; `dw16` the float32 depthwise conv
 * weights stored float16 (as `convertModel` would: room in the file for finer scales). `--f16`: also scores
 * float16 weights everywhere (the floor of this measure).
 * Run: `npm run build:ts && node dist/bench/int8-wq-sim.js [--lines 200] [--samples 16] [--w pc+gptq,g64+gptq]
 * [--a none,p8,p10] [--real] [--verbose]` (`--real`: also the int8 model as `quantizeModel` writes it — ConvInteger, per-pixel
 * activations in Int8Conv — with the scheme's integers and biases, for the per-channel schemes; `--verbose`: each
 * layer's output error per input vector, plain rounding → the scheme).
 * @module
 */
import { statSync } from 'node:fs';
import { convertModel, loadOnnx, matmul, tensor } from '../src/index.js';
import type { OnnxFeed, OnnxModel } from '../src/index.js';
import { editOf, modelOf } from '../src/onnx/export.js';
import { foldBatchNorm } from '../src/onnx/transform/fold.js';
import { gptqRound, refineRounding, SecondMoments } from '../src/onnx/transform/gptq.js';
import { attrI, attrInts, DT, type EditModel, type Msg } from '../src/onnx/transform/proto.js';
import { quantizeEdit, rne, roundingMoments, weightNodes, type OnnxQuantizeOptions } from '../src/onnx/transform/quantize.js';
import { parseActScheme, setActScheme } from './actq-hook.js';
import { numFlag } from './measure.js';
import { recLines } from './text-lines.js';

const LINES = numFlag('--lines', 200);
const SAMPLES = numFlag('--samples', 16);
const CAL_SEED = numFlag('--cal-seed', 5000);
const arg = (f: string, d: string) => (process.argv.includes(f) ? process.argv[process.argv.indexOf(f) + 1] : d);
const WSCHEMES = arg('--w', 'pc,pc+gptq+pw,pc+gptq,pc+hmse+gptq,pc+gptq+ls,pc+gptq+bc,g64+gptq,g32+f16s+gptq');
const ASCHEMES = arg('--a', 'none,p8');
const W = 320;
const REAL = process.argv.includes('--real');

interface WScheme { group: number; f16: boolean; clip: 'max' | 'mse' | 'hmse'; gptq: boolean; pwOnly: boolean; ls: boolean; bc: boolean; dw16: boolean; ada: boolean }
function parseW(s: string): WScheme {
  const w: WScheme = { group: 0, f16: false, clip: 'max', gptq: false, pwOnly: false, ls: false, bc: false, dw16: false, ada: false };
  for (const t of s.split('+')) {
    const g = /^g(\d+)$/.exec(t);
    if (g) w.group = +g[1];
    else if (t === 'f16s') w.f16 = true;
    else if (t === 'mse' || t === 'hmse') w.clip = t;
    else if (t === 'gptq') w.gptq = true;
    else if (t === 'pw') w.pwOnly = true;
    else if (t === 'ls') w.ls = true;
    else if (t === 'bc') w.bc = true;
    else if (t === 'dw16') w.dw16 = true;
    else if (t === 'ada') w.ada = true;
    else if (t !== 'pc') throw new RangeError(`bad weight scheme token '${t}' in '${s}'`);
  }
  return w;
}

/** Nearest float16 value (ties to even; subnormals included, no overflow check) of a float32 value. */
function f16round(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const e = Math.max(-14, Math.floor(Math.log2(Math.abs(x))));
  const step = 2 ** (e - 10);
  return rne(x / step) * step;
}

interface ConvStats { mom: SecondMoments; mean: Float64Array }
interface ConvTarget { node: Msg; shape: number[] }

/** The groups-1 conv targets of a folded edit model, in graph order. */
function convTargets(m: EditModel): ConvTarget[] {
  return weightNodes(m, ['Conv']).filter((t) => attrI(t.node, 'group', 1) === 1).map((t) => ({ node: t.node, shape: t.w.shape.slice() }));
}

/** Σ x·xᵀ and E[x] of every groups-1 conv's im2col columns (K = C·kh·kw) over the samples, in the folded float model. */
function convStats(f32: OnnxModel, samples: Record<string, OnnxFeed>[]): Map<string, ConvStats> {
  const pm = editOf('bench', f32);
  foldBatchNorm(pm);
  const targets = convTargets(pm);
  const graphIn = new Set(((pm.graph.input as Msg[]) ?? []).map((i) => i.name));
  const outs = new Set(((pm.graph.output as Msg[]) ?? []).map((o) => o.name));
  for (const t of targets) {
    const name = t.node.input[0] as string;
    if (!outs.has(name) && !graphIn.has(name)) {
      pm.graph.output.push({ name, type: { tensorType: { elemType: DT.FLOAT } } });
      outs.add(name);
    }
  }
  const res = new Map<string, ConvStats>();
  for (const t of targets) {
    const k = t.shape[1] * t.shape[2] * t.shape[3];
    res.set(t.node.name, { mom: new SecondMoments(k), mean: new Float64Array(k) });
  }
  const probe = loadOnnx(pm.bytes());
  for (const feeds of samples) {
    const o = probe.run(feeds) as unknown as Record<string, { data: Float32Array; shape: readonly number[] }>;
    for (const t of targets) {
      const name = t.node.input[0] as string;
      const v = graphIn.has(name) ? { data: (feeds[name] as { data: Float32Array }).data, shape: (feeds[name] as unknown as { dims: number[] }).dims } : o[name];
      const [, c, h, wd] = v.shape;
      const [kh, kw] = [t.shape[2], t.shape[3]];
      const st = (attrInts(t.node, 'strides') ?? [1n, 1n]).map(Number), pd = (attrInts(t.node, 'pads') ?? [0n, 0n, 0n, 0n]).map(Number);
      const oh = Math.floor((h + pd[0] + pd[2] - kh) / st[0]) + 1, ow = Math.floor((wd + pd[1] + pd[3] - kw) / st[1]) + 1;
      const k = c * kh * kw, p = oh * ow;
      const cols = new Float32Array(k * p);
      for (let ci = 0; ci < c; ci++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const row = (ci * kh + ky) * kw + kx;
            for (let y = 0; y < oh; y++) {
              const iy = y * st[0] - pd[0] + ky;
              if (iy < 0 || iy >= h) continue;
              for (let x = 0; x < ow; x++) {
                const ix = x * st[1] - pd[1] + kx;
                if (ix >= 0 && ix < wd) cols[row * p + y * ow + x] = v.data[(ci * h + iy) * wd + ix];
              }
            }
          }
      const s = res.get(t.node.name)!;
      s.mom.addColumns(cols, p);
      for (let r = 0; r < k; r++) {
        let acc = 0;
        for (let j = 0; j < p; j++) acc += cols[r * p + j];
        s.mean[r] += acc;
      }
    }
  }
  for (const s of res.values()) for (let r = 0; r < s.mean.length; r++) s.mean[r] /= s.mom.count;
  return res;
}

const ADA_ITERS = numFlag('--ada-iters', 500);

/**
 * AdaRound (Nagel et al., 2020) on one layer: ŵ = s·(⌊w/s⌋ + h(V)), h = clip(σ(V)·1.2 − 0.1, 0, 1), V by Adam on
 * Σ_o e_oᵀ (H / N) e_o (the output's squared error per input vector) + λ·Σ(1 − |2h − 1|^β), λ = 0.01, β annealed
 * 20 → 2 after the first 20 % of the iterations without it; then h is rounded. Full-batch (H holds all samples).
 */
function adaRound(rows: Float32Array, ch: number, st: ConvStats, sEl: Float32Array): Int32Array {
  const k = st.mom.k, n = rows.length, zeta = 1.1, gam = -0.1, lam = 0.01;
  const A = tensor(Float32Array.from(st.mom.h, (v) => v / st.mom.count), [k, k]);
  const fl = new Float32Array(n), V = new Float32Array(n), m1 = new Float32Array(n), m2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = rows[i] / sEl[i];
    fl[i] = Math.floor(x);
    const r = Math.min(0.999, Math.max(0.001, x - fl[i]));
    V[i] = -Math.log((zeta - gam) / (r - gam) - 1);
  }
  const E = new Float32Array(n), h = new Float32Array(n), sg = new Float32Array(n);
  const warm = Math.floor(0.2 * ADA_ITERS);
  for (let it = 0; it < ADA_ITERS; it++) {
    for (let i = 0; i < n; i++) {
      sg[i] = 1 / (1 + Math.exp(-V[i]));
      h[i] = Math.min(1, Math.max(0, sg[i] * (zeta - gam) + gam));
      E[i] = rows[i] - sEl[i] * Math.min(127, Math.max(-127, fl[i] + h[i]));
    }
    const G = matmul(tensor(E, [ch, k]), A).data as Float32Array;
    const beta = it < warm ? 0 : 20 - (18 * (it - warm)) / Math.max(1, ADA_ITERS - warm);
    const t = it + 1;
    for (let i = 0; i < n; i++) {
      const hv = sg[i] * (zeta - gam) + gam;
      const inRange = hv > 0 && hv < 1 && Math.abs(fl[i] + h[i]) < 127;
      // d rec / d h = −2·s·(E·A); d reg / d h = −2·β·|2h − 1|^(β−1)·sign(2h − 1).
      let gh = -2 * sEl[i] * G[i];
      if (beta > 0) {
        const u = 2 * h[i] - 1;
        gh += lam * -2 * beta * Math.abs(u) ** (beta - 1) * Math.sign(u);
      }
      const gv = inRange ? gh * (zeta - gam) * sg[i] * (1 - sg[i]) : 0;
      m1[i] = 0.9 * m1[i] + 0.1 * gv;
      m2[i] = 0.999 * m2[i] + 0.001 * gv * gv;
      V[i] -= (0.01 * (m1[i] / (1 - 0.9 ** t))) / (Math.sqrt(m2[i] / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  return Int32Array.from(fl, (f, i) => Math.min(127, Math.max(-127, f + (sg[i] * (zeta - gam) + gam >= 0.5 ? 1 : 0))));
}

const VERBOSE = process.argv.includes('--verbose');

/** Σ_o e_oᵀ (H / N) e_o of a layer's weight error e = w − ŵ: its output's squared error per input vector. */
function outputError(rows: Float32Array, deq: Float32Array, st: ConvStats): string {
  const k = st.mom.k, ch = rows.length / k;
  const E = Float32Array.from(rows, (w, i) => w - deq[i]);
  const G = matmul(tensor(E, [ch, k]), tensor(Float32Array.from(st.mom.h, (v) => v / st.mom.count), [k, k])).data as Float32Array;
  let v = 0;
  for (let i = 0; i < E.length; i++) v += E[i] * G[i];
  return v.toPrecision(4);
}

/** Plain rounding's dequantized weights with the given scales (blocks of G inputs). */
function plainDeq(rows: Float32Array, ch: number, k: number, scale: Float32Array, G: number): Float32Array {
  const ng = Math.ceil(k / G);
  return Float32Array.from(rows, (w, i) => {
    const s = scale[Math.floor(i / k) * ng + Math.floor((i % k) / G)];
    return Math.fround(Math.min(127, Math.max(-127, rne(w / s))) * s);
  });
}

/** Per-scale clipping factors tried by `mse` / `hmse` (fractions of the block's absmax). */
const CLIPS = Array.from({ length: 41 }, (_, i) => 1 - i * 0.0125);

/** Quantizes one conv weight [ch, k] with the scheme; returns the dequantized rows and the scale count per row. */
function fakeQuant(rows: Float32Array, ch: number, k: number, ws: WScheme, st: ConvStats | undefined, pointwise: boolean) {
  const G = ws.group > 0 ? ws.group : k, ng = Math.ceil(k / G);
  const scale = new Float32Array(ch * ng);
  const diag = (j: number) => (ws.clip === 'hmse' && st ? st.mom.h[j * k + j] : 1);
  for (let o = 0; o < ch; o++)
    for (let g = 0; g < ng; g++) {
      const j0 = g * G, j1 = Math.min(k, j0 + G);
      let amax = 0;
      for (let j = j0; j < j1; j++) amax = Math.max(amax, Math.abs(rows[o * k + j]));
      let best = amax / 127, bestErr = Infinity;
      if (ws.clip !== 'max' && amax > 0)
        for (const a of CLIPS) {
          const s = (a * amax) / 127;
          let err = 0;
          for (let j = j0; j < j1; j++) {
            const w = rows[o * k + j], d = w - Math.min(127, Math.max(-127, rne(w / s))) * s;
            err += diag(j) * d * d;
          }
          if (err < bestErr) [bestErr, best] = [err, s];
        }
      if (!(best > 0)) best = 1;
      scale[o * ng + g] = Math.fround(ws.f16 ? f16round(best) : best);
    }
  const group = ws.group > 0 ? G : 0;
  let q: Int32Array = new Int32Array(ch * k);
  for (let o = 0; o < ch; o++) for (let j = 0; j < k; j++) q[o * k + j] = Math.min(127, Math.max(-127, rne(rows[o * k + j] / scale[o * ng + Math.floor(j / G)])));
  const data = st && (pointwise || !ws.pwOnly);
  if (ws.gptq && data) q = gptqRound(rows, ch, st.mom, scale, [0], -127, 127, rne, group);
  if (ws.ada && data) q = adaRound(rows, ch, st, Float32Array.from(rows, (_, i) => scale[Math.floor(i / k) * ng + Math.floor((i % k) / G)]));
  if (ws.ls && data) refineRounding(rows, ch, st.mom, scale, [0], -127, 127, q, group);
  const deq = new Float32Array(ch * k);
  for (let o = 0; o < ch; o++) for (let j = 0; j < k; j++) deq[o * k + j] = Math.fround(q[o * k + j] * scale[o * ng + Math.floor(j / G)]);
  if (VERBOSE && data) console.log(`  ${ch}×${k}: output error per input vector, plain rounding ${outputError(rows, plainDeq(rows, ch, k, scale, G), st)} → ${outputError(rows, deq, st)}`);
  return { deq, ng, q };
}

/** The model with every groups-1 conv weight fake-quantized by `ws` and int8 MatMuls; extra file bytes vs per-channel f32 scales. */
function build(f32: OnnxModel, ws: WScheme, stats: Map<string, ConvStats>, mmMoments: Map<string, SecondMoments> | null, real = false) {
  const m = editOf('bench', f32);
  foldBatchNorm(m);
  let extra = 0;
  const ints = new Map<string, Int32Array>();
  for (const t of convTargets(m)) {
    const n = t.node, w = m.constValue(n.input[1])!;
    const ch = t.shape[0], k = w.size / ch, rows = w.data as Float32Array;
    const st = stats.get(n.name);
    const { deq, ng, q } = fakeQuant(rows, ch, k, ws, st, t.shape[2] * t.shape[3] === 1);
    extra += ch * ng * (ws.f16 ? 2 : 4) - ch * 4;
    ints.set(n.name, q);
    if (!real) m.setInit(n.input[1], { dtype: 'float32', shape: w.shape.slice(), data: deq, size: deq.length });
    if (ws.bc && st) {
      const b = n.input[2] ? m.constValue(n.input[2]) : undefined;
      const bias = b ? Float32Array.from(b.data as Float32Array) : new Float32Array(ch);
      if (!b) extra += ch * 4;
      for (let o = 0; o < ch; o++) {
        let d = 0;
        for (let j = 0; j < k; j++) d += (rows[o * k + j] - deq[o * k + j]) * st.mean[j];
        bias[o] = Math.fround(bias[o] + d);
      }
      const v = { dtype: 'float32' as const, shape: [ch], data: bias, size: ch };
      if (b) m.setInit(n.input[2], v);
      else n.input[2] = m.addInit(`${n.name}_bias`, v);
    }
  }
  if (ws.dw16)
    for (const t of weightNodes(m, ['Conv'])) {
      if (attrI(t.node, 'group', 1) === 1) continue;
      const d = Float32Array.from(t.w.data as Float32Array, f16round);
      m.setInit(t.node.input[1], { dtype: 'float32', shape: t.w.shape.slice(), data: d, size: d.length });
      extra -= 2 * d.length;
    }
  if (!real) {
    quantizeEdit(m, { mode: 'dynamic', skipOps: ['Conv'] }, mmMoments);
    return { model: modelOf(m), extra };
  }
  // The real int8 model (ConvInteger, run by Int8Conv with per-pixel activations): plain per-channel quantization
  // gives the same scales (absmax / 127), so the scheme's integers replace the stored ones.
  quantizeEdit(m, { mode: 'dynamic' }, mmMoments);
  for (const n of m.nodes) {
    if (n.opType !== 'ConvInteger') continue;
    const q = ints.get((n.name as string).replace(/_ConvInteger$/, ''));
    const v = m.constValue(n.input[1])!;
    if (!q || q.length !== v.size) throw new Error(`no integers for ${n.name}`);
    m.setInit(n.input[1], { dtype: 'int8', shape: v.shape.slice(), data: Int8Array.from(q), size: q.length });
  }
  return { model: modelOf(m), extra };
}

function main() {
  const { path: rec, f32, feed, score } = recLines(LINES, W);
  const samples = Array.from({ length: SAMPLES }, (_, i) => feed(CAL_SEED + i));
  const t0 = Date.now();
  const stats = SAMPLES > 0 ? convStats(f32, samples) : new Map<string, ConvStats>();
  const mmOpts: OnnxQuantizeOptions = { mode: 'dynamic', skipOps: ['Conv'] };
  const mmMoments = SAMPLES > 0 ? roundingMoments(editOf('bench', f32), mmOpts, samples) : null;
  // File sizes: the float32 file and today's default int8 file (per-channel float32 scales, depthwise float32).
  const f32Bytes = statSync(rec).size;
  const dm = editOf('bench', f32);
  quantizeEdit(dm, { mode: 'dynamic' });
  const int8Bytes = dm.bytes().length;
  console.log(`PaddleOCR rec 1×3×48×${W}; ${LINES} lines (seeds 100…), calibration ${SAMPLES} lines (seeds ${CAL_SEED}…, ${Date.now() - t0} ms); f32 file ${f32Bytes} B, default int8 ${int8Bytes} B (${(f32Bytes / int8Bytes).toFixed(3)}×)`);
  if (process.argv.includes('--f16')) console.log(`f16 weights | none | ${score(convertModel(f32, { dtype: 'float16' }))}`);
  for (const w of WSCHEMES.split(',')) {
    const t1 = Date.now();
    const { model, extra } = build(f32, parseW(w), stats, mmMoments);
    const ratio = (f32Bytes / (int8Bytes + extra)).toFixed(3);
    for (const a of ASCHEMES.split(',')) {
      setActScheme(parseActScheme(a));
      console.log(`${w} | ${a} | ${score(model)} | ${ratio}× | build ${Date.now() - t1} ms`);
    }
    setActScheme(null);
    const ws = parseW(w);
    if (REAL && ws.group === 0 && !ws.f16 && ws.clip === 'max' && !ws.dw16) console.log(`${w} | real int8 (Int8Conv, per-pixel) | ${score(build(f32, ws, stats, mmMoments, true).model)}`);
  }
}

main();
