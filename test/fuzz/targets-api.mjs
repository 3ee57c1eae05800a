// Argument generators of the package's exports. Every export is fuzzed (enumerated from dist/src/index.js); the
// table below gives mostly-valid arguments for the ones that reach kernels, the rest draw from a generic pool.
import * as api from '../../dist/src/index.js';
import { compare, refGemm, WrongResult } from './targets-native.mjs';
import { MORE_GENS, MORE_INSTANCES } from './targets-api-more.mjs';
import { ONNX_GENS } from './targets-onnx.mjs';
import { anyValue, corruptTensor, dim, DTYPES, FuzzProbeError, hostile, isDetached, label, randomOptions, signal, spoil, tens, trapOption } from './values.mjs';

/** Exports never called: slow whole pipelines (minutes) or ones that only forward to covered functions. */
export const SKIP = new Set(['optimize', 'runCli']);
/** Plain constants (read, not called). */
const isCallable = (v) => typeof v === 'function';

/** Tensors of a family the int8/half/sparse modules accept as weights [n, k] (linear layout) or [k, n]. */
function weights(R, k, n, layoutKn) {
  const shape = layoutKn ? [k, n] : [n, k];
  const w = tens(R, shape, 'float32', 0.05);
  const kind = R.pick(['f32', 'f32', 'packed', 'half', 'halfPacked', 'int8', 'int8Packed', 'sparse', 'sparseInt8']);
  try {
    switch (kind) {
      case 'f32':
        return { w, kind, ref: w };
      case 'packed':
        return { w: label(api.packWeights(w, { layout: layoutKn ? 'kn' : 'linear' }), `PackedWeights([${shape}])`), kind, ref: w };
      case 'half':
        return { w: w.to(R.pick(['float16', 'bfloat16'])), kind };
      case 'halfPacked':
        return { w: label(api.packHalfWeights(w, { layout: layoutKn ? 'kn' : 'linear', dtype: R.pick(['float16', 'bfloat16']) }), `PackedHalfWeights([${shape}])`), kind };
      case 'int8':
        return { w: label(api.quantize(w, { dtype: R.pick(['int8', 'uint8']), axis: R.pick([null, 0]) }), `Quantized([${shape}])`), kind };
      case 'int8Packed':
        return { w: label(api.packInt8Weights(api.quantize(w, { axis: R.pick([null, 0]) }), { layout: layoutKn ? 'kn' : 'linear' }), `PackedInt8Weights([${shape}])`), kind };
      case 'sparse':
        return { w: label(api.toSparse(api.prune(w, { sparsity: 0.5 }).weight ?? w, { format: R.pick(['csr', 'bsr', 'auto']) }), `Sparse([${shape}])`), kind };
      case 'sparseInt8':
        return { w: label(api.toSparse(w, { dtype: 'int8' }), `SparseInt8([${shape}])`), kind };
    }
  } catch {
    /* a family refused these dims (e.g. k = 0): fall back to plain */
  }
  return { w, kind: 'f32', ref: w };
}

/** Leading shape of an activation: [m, k], [k], or [b, m, k]. */
function actShape(R, m, k) {
  return R.weighted([
    [8, [m, k]],
    [1, [k]],
    [1, [2, m, k]],
  ]);
}

function gemmOpts(R, n, out, extra = {}) {
  const o = { ...extra };
  if (R.chance(0.4)) o.bias = R.chance(0.9) ? tens(R, [n]) : tens(R, [n + 1]);
  if (R.chance(0.5)) o.activation = R.chance(0.95) ? R.pick(['none', 'relu', 'gelu']) : R.pick(['tanh', 1, null]);
  if (out !== undefined) o.out = out;
  return o;
}

const actCode = (a) => (a === 'relu' ? 1 : a === 'gelu' ? 2 : 0);

/** Reference for f32 matmul(a [.., k], b [k, n] or [n, k]). */
function gemmRef(a, b, tb, opts) {
  const k = a.shape[a.shape.length - 1];
  const n = tb ? b.shape[0] : b.shape[1];
  const m = k === 0 ? a.shape.slice(0, -1).reduce((x, y) => x * y, 1) : a.size / k;
  const ad = a.data.slice();
  const bd = b.data.slice();
  const bias = opts.bias ? opts.bias.data.slice() : null;
  return refGemm(ad, m, k, (p, j) => (tb ? bd[j * k + p] : bd[p * n + j]), n, bias, actCode(opts.activation));
}

function plain(...ts) {
  return ts.every((t) => !t || !(t instanceof api.Tensor) || (!(t.data.buffer instanceof SharedArrayBuffer) && !t.data.buffer.resizable && !isDetached(t.data.buffer) && t.data.length === t.size && !(t.data instanceof Float32Array && t.data.some((v) => Math.abs(v) > 1e15 && Number.isFinite(v)))));
}

/** matmul/linear family (sync or async): mostly-valid operands, an f32 oracle, aliasing of `out`. */
function gemmCall(R, fn, isLinear, isAsync) {
  const m = dim(R);
  const k = dim(R);
  const n = dim(R);
  const a = tens(R, actShape(R, m, k));
  const rows = a.shape.length === 1 ? 1 : a.size / Math.max(1, k) || a.shape.slice(0, -1).reduce((x, y) => x * y, 1);
  const tb = !isLinear && R.chance(0.3);
  const { w, kind, ref } = weights(R, k, n, !isLinear && !tb);
  const outShape = a.shape.length === 3 ? [2, m, n] : a.shape.length === 1 ? [n] : [m, n];
  let out;
  let alias = false;
  if (R.chance(0.25)) out = tens(R, outShape);
  else if (R.chance(0.08)) {
    out = a;
    alias = true;
  }
  const opts = gemmOpts(R, n, out, tb ? { transB: true } : {});
  if (isAsync && R.chance(0.3)) opts.signal = signal(R);
  let args;
  if (isLinear) {
    const bias = opts.bias ?? null;
    delete opts.bias;
    args = [a, w, bias, opts];
  } else args = [a, w, opts];
  let check;
  if ((kind === 'f32' || kind === 'packed') && plain(a, ref, isLinear ? args[2] : opts.bias, out) && rows * n * Math.max(1, k) <= 1 << 18) {
    // Reference B layout: linear weights are [n, k]; matmul's B is [k, n], or [n, k] under transB (packed too).
    const bias = isLinear ? args[2] : opts.bias;
    const r = gemmRef(a, ref, isLinear ? true : tb, { ...opts, bias });
    check = (res) => compare(r.c, res?.data, r.mag);
  }
  void alias;
  void fn;
  return { args, check, async: isAsync };
}

/** Elementwise op with an oracle for add/sub/mul/relu/softmax (including `out` aliasing an input). */
function eltCall(R, name) {
  const shape = R.weighted([
    [6, [dim(R), dim(R)]],
    [2, [dim(R)]],
    [1, [2, dim(R), dim(R)]],
    [1, []],
  ]);
  const x = tens(R, shape);
  const binary = name === 'add' || name === 'sub' || name === 'mul';
  let b;
  if (binary)
    b = R.weighted([
      [5, () => tens(R, shape)],
      [2, () => tens(R, [shape[shape.length - 1] ?? 1])],
      [2, () => R.f() * 4 - 2],
      [1, () => tens(R, [dim(R)])],
    ])();
  let out;
  if (R.chance(0.2)) out = tens(R, shape);
  else if (R.chance(0.2)) out = x;
  else if (binary && b instanceof api.Tensor && R.chance(0.1)) out = b;
  const opts = out ? { out } : R.chance(0.5) ? {} : undefined;
  const args = name === 'layerNorm' ? [x, R.chance(0.5) ? tens(R, [shape[shape.length - 1] ?? 1]) : null, R.chance(0.5) ? tens(R, [shape[shape.length - 1] ?? 1]) : null, { ...opts, eps: R.chance(0.9) ? 1e-5 : R.pick([0, -1, NaN]) }] : binary ? [x, b, opts] : [x, opts];
  let check;
  if (['add', 'sub', 'mul', 'relu', 'softmax'].includes(name) && plain(x, b, out) && x.size <= 1 << 14) {
    const xd = x.data.slice();
    const cols = shape[shape.length - 1] ?? 1;
    let want;
    if (binary && (typeof b === 'number' || b.size === x.size || b.size === cols)) {
      const bd = typeof b === 'number' ? null : b.data.slice();
      want = new Float64Array(x.size);
      for (let i = 0; i < x.size; i++) {
        const v = typeof b === 'number' ? Math.fround(b) : bd[b.size === x.size ? i : i % cols];
        want[i] = Math.fround(name === 'add' ? xd[i] + v : name === 'sub' ? xd[i] - v : xd[i] * v);
      }
    } else if (name === 'relu') {
      want = Float64Array.from(xd, (v) => (v > 0 || Number.isNaN(v) ? v : 0));
    } else if (name === 'softmax' && cols > 0 && xd.every(Number.isFinite)) {
      want = new Float64Array(x.size);
      for (let r = 0; r < x.size / cols; r++) {
        let mx = -Infinity;
        for (let j = 0; j < cols; j++) mx = Math.max(mx, xd[r * cols + j]);
        let s = 0;
        for (let j = 0; j < cols; j++) s += Math.exp(xd[r * cols + j] - mx);
        for (let j = 0; j < cols; j++) want[r * cols + j] = Math.exp(xd[r * cols + j] - mx) / s;
      }
    }
    if (want) check = (res) => compare(want, res?.data);
  }
  return { args, check };
}

function smallModel(R) {
  const f = 1 + R.int(6);
  const m = api.mlp([f, 1 + R.int(5), 2 + R.int(3)], { seed: R.int(100) });
  return label(m, `mlp(${f}→…)`);
}

function dataset(R, f = 1 + R.int(6), classes = 3) {
  const n = R.pick([0, 1, 2, 5, 9]);
  return label({ x: tens(R, [n, f]), y: Int32Array.from({ length: n }, () => R.int(classes)) }, `{x: [${n},${f}], y}`);
}

/** The generic pool plus library objects (models, quantized/sparse/packed weights, datasets). */
export function apiValue(R) {
  return R.weighted([
    [10, () => anyValue(R)],
    [1, () => smallModel(R)],
    [1, () => dataset(R)],
    [1, () => weights(R, dim(R), dim(R), false).w],
    [1, () => api.quantize(tens(R, [dim(R), dim(R)]))],
  ])();
}

/** Specific generators: (R) => { args, check?, async?, invoke? }. */
export const API_GENS = {
  tensor: (R) => {
    const n = dim(R);
    const dt = R.pick([...DTYPES, undefined]);
    const data = R.weighted([
      [3, () => tens(R, [n], dt && dt !== 'float16' && dt !== 'bfloat16' ? dt : 'float32', 0.4).data],
      [2, () => Array.from({ length: n }, () => R.f())],
      [1, () => anyValue(R)],
    ])();
    return { args: [data, R.chance(0.7) ? R.pick([[n], [1, n], [n, 1], [n + 1], [2, n / 2], [-1], [n, 2 ** 31]]) : anyValue(R), dt] };
  },
  zeros: (R) => ({ args: [R.chance(0.8) ? [dim(R), dim(R)] : R.pick([[2 ** 31], [2 ** 16, 2 ** 16], [-1], [NaN], [1.5], 5, null, [2 ** 53, 0], [0, 2 ** 53]]), R.pick([...DTYPES, undefined, 'bogus'])] }),
  empty: (R) => API_GENS.zeros(R),
  rand: (R) => ({ args: [R.chance(0.8) ? [dim(R), dim(R)] : R.pick([[2 ** 31], [-1], [1.5], [2 ** 40]]), R.chance(0.9) ? { seed: R.int(10), dtype: R.pick([...DTYPES, undefined]), low: R.chance(0.8) ? undefined : R.pick([-1, 5, NaN]), high: R.chance(0.8) ? undefined : R.pick([1, -5, Infinity]) } : randomOptions(R, ['seed', 'dtype', 'low', 'high'])] }),
  setBufferPoolLimit: (R) => ({ args: [R.chance(0.8) ? R.pick([0, 1 << 20, 64 << 20]) : R.pick([-1, NaN, 2 ** 53, 2 ** 64, '5'])] }),
  setMaxIsa: (R) => ({ args: [R.chance(0.9) ? R.pick([...api.cpuInfo().supportedIsas, 'avx512', 'neon', 'scalar']) : anyValue(R)] }),
  kernelForM: (R) => ({ args: [R.chance(0.8) ? R.pick(Object.keys(api.cpuInfo().kernels)) : anyValue(R), R.chance(0.8) ? R.pick([0, 1, 2, 4, 8, 9, 64]) : anyValue(R)] }),
  setNumThreads: (R) => ({ args: [R.chance(0.85) ? R.pick([1, 2, 3, 4]) : R.pick([0, -1, 257, 2 ** 31, NaN, 1.5, 1e9])] }),
  matmul: (R) => gemmCall(R, 'matmul', false, false),
  linear: (R) => gemmCall(R, 'linear', true, false),
  matmulAsync: (R) => gemmCall(R, 'matmulAsync', false, true),
  linearAsync: (R) => gemmCall(R, 'linearAsync', true, true),
  packWeights: (R) => ({ args: [tens(R, [dim(R), dim(R)], R.chance(0.9) ? 'float32' : R.pick(DTYPES)), R.chance(0.8) ? { layout: R.pick(['linear', 'kn', undefined]) } : randomOptions(R, ['layout', 'dtype'])] }),
  packHalfWeights: (R) => ({ args: [tens(R, [dim(R), dim(R)], R.pick(['float32', 'float16', 'bfloat16'])), R.chance(0.8) ? { layout: R.pick(['linear', 'kn']), dtype: R.pick(['float16', 'bfloat16', undefined]), inputDtype: R.pick(['float32', 'float16', 'bfloat16', undefined]) } : randomOptions(R, ['layout', 'dtype', 'inputDtype'])] }),
  packInt8Weights: (R) => ({ args: [R.chance(0.7) ? api.quantize(tens(R, [dim(R), dim(R)]), { dtype: R.pick(['int8', 'uint8']), axis: R.pick([null, 0, 1]) }) : tens(R, [dim(R), dim(R)], R.pick(DTYPES)), R.chance(0.8) ? { layout: R.pick(['linear', 'kn']) } : randomOptions(R, ['layout'])] }),
  add: (R) => eltCall(R, 'add'),
  sub: (R) => eltCall(R, 'sub'),
  mul: (R) => eltCall(R, 'mul'),
  relu: (R) => eltCall(R, 'relu'),
  gelu: (R) => eltCall(R, 'gelu'),
  softmax: (R) => eltCall(R, 'softmax'),
  logSoftmax: (R) => eltCall(R, 'logSoftmax'),
  layerNorm: (R) => eltCall(R, 'layerNorm'),
  cast: (R) => ({ args: [tens(R, [dim(R), dim(R)], R.pick(DTYPES), 0.2), R.pick([...DTYPES, 'bogus'])] }),
  toFloat16Array: (R) => ({ args: [tens(R, [dim(R)], R.pick(DTYPES))] }),
  quantize: (R) => {
    const shape = [dim(R), dim(R)];
    return { args: [tens(R, shape, R.chance(0.9) ? 'float32' : R.pick(DTYPES)), R.chance(0.7) ? { dtype: R.pick(['int8', 'uint8', undefined]), scheme: R.pick(['symmetric', 'asymmetric', undefined]), axis: R.pick([null, 0, 1, -1, 2, undefined]), calibration: R.pick(['minmax', 'percentile', 'entropy', undefined]), percentile: R.pick([undefined, 99.9, 50, 0, 101]), bins: R.pick([undefined, 16, 2048, 0, 1, 2 ** 31]) } : randomOptions(R, ['dtype', 'scheme', 'axis', 'calibration', 'percentile', 'bins', 'scale', 'zeroPoint'])] };
  },
  dequantize: (R) => {
    const q = api.quantize(tens(R, [dim(R), dim(R)]), { axis: R.pick([null, 0]) });
    return { args: [q, R.chance(0.8) ? {} : { out: R.chance(0.5) ? tens(R, q.shape.slice()) : tens(R, [dim(R)]) }] };
  },
  quantizeDynamic: (R) => ({ args: [tens(R, [dim(R), dim(R)]), { dtype: R.pick(['int8', 'uint8', 'bogus', undefined]) }] }),
  compareOutputs: (R) => {
    const s = [dim(R), dim(R)];
    return { args: [tens(R, s), R.chance(0.5) ? tens(R, s) : api.quantize(tens(R, R.chance(0.8) ? s : [dim(R)]))] };
  },
  toSparse: (R) => ({ args: [R.chance(0.8) ? tens(R, [dim(R), dim(R)]) : api.quantize(tens(R, [dim(R), dim(R)])), R.chance(0.8) ? { format: R.pick(['csr', 'bsr', 'nm', 'auto', undefined]), block: R.pick([undefined, [2, 2], [4, 1], [0, 1], [65, 1]]), nm: R.pick([undefined, [2, 4], [1, 8], [4, 2], [0, 4]]), indexType: R.pick(['auto', 'uint16', 'int32', undefined]), dtype: R.pick(['float32', 'int8', undefined]) } : randomOptions(R, ['format', 'block', 'nm', 'indexType', 'dtype'])] }),
  sparseCsr: (R) => {
    const rows = dim(R);
    const cols = dim(R);
    const nnz = R.int(Math.min(rows * cols, 40) + 1);
    const rowPtr = Int32Array.from({ length: rows + 1 }, (_, i) => Math.min(nnz, Math.floor((i * nnz) / Math.max(1, rows))));
    const colIdx = Int32Array.from({ length: nnz }, () => R.int(Math.max(1, cols)));
    return { args: [{ shape: [rows, cols], rowPtr, colIdx: R.chance(0.5) ? Uint16Array.from(colIdx) : colIdx, values: tens(R, [nnz]).data, ...(R.chance(0.2) ? { scales: tens(R, [rows]).data } : {}) }] };
  },
  sparseBsr: (R) => {
    const br = R.pick([1, 2, 4]);
    const bc = R.pick([1, 2, 4]);
    const rows = dim(R);
    const cols = dim(R);
    const nbr = Math.ceil(rows / br);
    const nb = R.int(4);
    return { args: [{ shape: [rows, cols], blockShape: [br, bc], rowPtr: Int32Array.from({ length: nbr + 1 }, (_, i) => (i === nbr ? nb : Math.min(nb, i))), colIdx: Int32Array.from({ length: nb }, (_, i) => i), values: new Float32Array(nb * br * bc) }] };
  },
  sparseNm: (R) => {
    const m = R.pick([2, 4, 8]);
    const n = 1 + R.int(m);
    const rows = dim(R);
    const cols = m * R.int(4);
    return { args: [{ shape: [rows, cols], nm: [n, m], values: new Float32Array((rows * cols * n) / m), indices: new Uint8Array(rows * Math.ceil(((cols / m) * n) / 2)) }] };
  },
  prune: (R) => ({ args: [tens(R, [dim(R), dim(R)]), R.chance(0.8) ? { sparsity: R.pick([0, 0.5, 0.9, 1, -0.1, 1.5, NaN]), pattern: R.pick(['unstructured', '2:4', '1:8', '4x1', '2x2', 'nm', 'block', '0:4', '5:4', undefined]), criterion: R.pick(['magnitude', undefined, 'bogus']) } : randomOptions(R, ['sparsity', 'pattern', 'nm', 'block', 'criterion'])] }),
  probeHalfPeak: (R) => ({ args: [R.pick(['fp16fma', 'bf16dot', 'amxbf16', 'bogus']), R.pick([0, 1, 2, -1, NaN])] }),
  probeVnniPeak: (R) => ({ args: [R.pick([0, 1, 2, -1, NaN])] }),
  probeAmxInt8Peak: (R) => ({ args: [R.pick([0, 1, 2, -1, NaN])] }),
  reluBackward: (R) => {
    const s = [dim(R), dim(R)];
    return { args: [tens(R, s), tens(R, R.chance(0.9) ? s : [dim(R)]), ...(R.chance(0.3) ? [tens(R, s)] : [])] };
  },
  geluBackward: (R) => API_GENS.reluBackward(R),
  transpose: (R) => ({ args: [tens(R, [dim(R), dim(R)]), ...(R.chance(0.3) ? [tens(R, [dim(R), dim(R)])] : [])] }),
  argmax: (R) => ({ args: [tens(R, R.pick([[dim(R), dim(R)], [dim(R)]]))] }),
  crossEntropy: (R) => {
    const r = dim(R);
    const c = dim(R);
    return { args: [tens(R, [r, c]), Int32Array.from({ length: R.chance(0.9) ? r : r + 1 }, () => (R.chance(0.95) ? R.int(Math.max(1, c)) : R.pick([-1, c, 2 ** 31 - 1]))), randomOptions(R, ['labelSmoothing', 'temperature', 'reduction'])] };
  },
  softTargets: (R) => ({ args: [tens(R, [dim(R), dim(R)]), R.pick([1, 2, 0.5, 0, -1, NaN, Infinity])] }),
  accuracy: (R) => {
    const r = dim(R);
    return { args: [tens(R, [r, dim(R)]), new Int32Array(R.chance(0.9) ? r : r + 2)] };
  },
  fit: (R) => {
    const model = smallModel(R);
    const f = model.layers?.[0]?.inFeatures ?? 3;
    return { args: [model, dataset(R, R.chance(0.9) ? f : f + 1), { epochs: R.pick([0, 1, 2, -1, 1.5]), batchSize: R.pick([1, 2, 3, 0, 2 ** 31, undefined]), seed: R.int(9), optimizer: R.pick([undefined, 'sgd', 'adamw', { type: 'sgd', lr: 0.1 }, { type: 'bogus' }]) }] };
  },
  evaluate: (R) => {
    const model = smallModel(R);
    return { args: [model, dataset(R, model.layers?.[0]?.inFeatures ?? 3), { batchSize: R.pick([1, 4, 0, undefined, 2 ** 40]) }] };
  },
  predict: (R) => {
    const model = smallModel(R);
    return { args: [model, tens(R, [dim(R), model.layers?.[0]?.inFeatures ?? 3]), { batchSize: R.pick([1, 4, 0, undefined, NaN]) }] };
  },
  distill: (R) => {
    const t = smallModel(R);
    const f = t.layers?.[0]?.inFeatures ?? 3;
    return { args: [t, api.mlp([f, 3, 3], { seed: 1 }), dataset(R, f), { epochs: R.pick([0, 1]), temperature: R.pick([1, 2, 0, -1]), alpha: R.pick([0.5, 0, 1, 2, NaN]) }] };
  },
  measureLatency: (R) => {
    const model = smallModel(R);
    return { args: [model, tens(R, [dim(R), model.layers?.[0]?.inFeatures ?? 3]), { blocks: R.pick([1, 2, 0, -1, NaN]), blockMs: R.pick([0, 1, -1, NaN]), warmup: R.pick([0, 1, -1]) }] };
  },
  measureLatencies: (R) => {
    const model = smallModel(R);
    return { args: [[model, smallModel(R)], tens(R, [dim(R), model.layers?.[0]?.inFeatures ?? 3]), { blocks: 1, blockMs: R.pick([0, 1]), warmup: 0 }] };
  },
  Linear: (R) => ({ args: [R.chance(0.85) ? dim(R) : R.pick([-1, 2 ** 31, NaN, 1.5, 2 ** 20]), R.chance(0.85) ? dim(R) : R.pick([-1, 2 ** 31, NaN, 2 ** 20]), randomOptions(R, ['bias', 'seed', 'init'])] }),
  mlp: (R) => ({ args: [R.chance(0.85) ? Array.from({ length: 1 + R.int(4) }, () => dim(R)) : anyValue(R), randomOptions(R, ['seed', 'activation', 'dropout'])] }),
  Dropout: (R) => ({ args: [R.pick([0, 0.5, 1, -1, 2, NaN]), { seed: R.int(5) }] }),
  LayerNorm: (R) => ({ args: [R.chance(0.9) ? dim(R) : R.pick([-1, 2 ** 31, NaN]), { eps: R.pick([1e-5, 0, -1, NaN]) }] }),
  saveModel: (R, ctx) => ({ args: [smallModel(R), `${ctx.tmpdir}/m${R.int(4)}.json`, randomOptions(R, ['weights', 'dtype'])] }),
  loadModel: (R, ctx) => ({ args: [R.pick([`${ctx.tmpdir}/m${R.int(4)}.json`, `${ctx.tmpdir}/missing.json`, ctx.tmpdir, ''])] }),
  serializeModel: (R) => ({ args: [smallModel(R), randomOptions(R, ['weights', 'dtype'])] }),
  deserializeModel: (R) => {
    let bytes;
    try {
      bytes = api.serializeModel(smallModel(R));
    } catch {
      bytes = new Uint8Array(8);
    }
    if (R.chance(0.7)) {
      bytes = bytes.slice(0, R.chance(0.3) ? R.int(bytes.length) : bytes.length);
      for (let i = 0, c = 1 + R.int(6); i < c && bytes.length; i++) bytes[R.int(bytes.length)] = R.int(256);
    }
    return { args: [bytes] };
  },
  loadCsv: (R, ctx) => ({ args: [R.pick([`${ctx.tmpdir}/missing.csv`, ctx.tmpdir, '/dev/null'])] }),
  parseCsv: (R) => ({ args: [R.pick(['', 'a,b\n1,2\n', '1,2,3\n4,5\n', 'x\n' + '1\n'.repeat(5), '1,0\n2,1\n3,0\n', '\u0000,\n,,,\n', '1e999,1\nNaN,0\n']), randomOptions(R, ['label', 'header', 'delimiter'])] }),
  BatchScheduler: (R) => {
    const rowLen = 1 + R.int(4);
    const w = tens(R, [rowLen, 2]);
    const runBatch = R.weighted([
      [5, () => (x) => api.matmul(x, w)],
      [1, () => async (x) => api.matmulAsync(x, w)],
      [1, () => () => { throw new FuzzProbeError('runBatch'); }],
      [1, () => (x) => tens(R, [x.shape[0] + 1, 2])],
      [1, () => { const j = R.int(4); return () => (j === 3 ? Promise.reject(new FuzzProbeError('runBatch async')) : [null, 5, {}][j]); }],
      [1, () => (x) => { spoil(R, x); return api.matmul(x, w); }],
    ])();
    const opts = R.chance(0.8) ? { maxBatchSize: R.pick([1, 2, 4, 0, -1, 2 ** 31]), maxDelayMs: R.pick([0, 1, 2, -1, NaN]), maxQueue: R.pick([undefined, 1, 4, 0]), onFull: R.pick([undefined, 'reject', 'wait', 'bogus']), timeoutMs: R.pick([undefined, 1, 5, 0, -1]), rowShape: R.pick([undefined, [rowLen], [rowLen + 1], [-1]]), preferredBatchSizes: R.pick([undefined, [1, 2], [0], [4, 2]]), maxConcurrentBatches: R.pick([undefined, 1, 2, 0]) } : randomOptions(R, ['maxBatchSize', 'maxDelayMs', 'maxQueue', 'onFull', 'timeoutMs', 'rowShape', 'dtype', 'spinWaitMs']);
    const subs = Array.from({ length: 1 + R.int(5) }, () => [R.chance(0.85) ? tens(R, R.pick([[rowLen], [1, rowLen], [2, rowLen]])) : apiValue(R), R.chance(0.7) ? {} : { signal: signal(R), timeoutMs: R.pick([1, 0, -1, undefined]), priority: R.pick([0, 1, -1, NaN, undefined]) }]);
    const close = R.pick([undefined, { drain: true }, { drain: false }, null]);
    return {
      args: [runBatch, opts],
      async: true,
      invoke: (args) => {
        const s = new api.BatchScheduler(...args);
        const ps = subs.map(([x, o]) => s.submit(x, o));
        if (close !== undefined) ps.push(s.close(close ?? undefined));
        else ps.push(s.close({ drain: true }));
        return Promise.allSettled(ps);
      },
      note: `submits ${subs.length}, close(${JSON.stringify(close)})`,
    };
  },
  Executor: (R) => {
    const opts = R.chance(0.8) ? { concurrency: R.pick([1, 2, 4, 0, -1, Infinity, NaN, undefined]), signal: signal(R) } : randomOptions(R, ['concurrency', 'signal']);
    const jobs = Array.from({ length: 1 + R.int(4) }, () => R.pick([(s) => api.matmulAsync(tens(R, [3, 4]), tens(R, [4, 2]), { signal: s }), () => 5, () => { throw new FuzzProbeError('job'); }, async () => { await null; throw new FuzzProbeError('async job'); }, null, 'job']));
    const abortAt = R.chance(0.3) ? R.int(jobs.length + 1) : -1;
    return {
      args: [opts],
      async: true,
      invoke: (args) => {
        const e = new api.Executor(...args);
        const ps = [];
        jobs.forEach((j, i) => {
          if (i === abortAt) e.abort(new FuzzProbeError('executor abort'));
          ps.push(e.run(j, R.chance(0.8) ? {} : { signal: signal(R) }));
        });
        if (R.chance(0.3)) ps.push(e.map([1, 2, 3], (x) => x * 2));
        ps.push(e.onIdle());
        return Promise.allSettled(ps);
      },
    };
  },
  runNativeAsync: (R) => {
    const start = R.pick([
      (id) => api.matmulAsync(tens(R, [2, 3]), tens(R, [3, 2])).then(() => id),
      () => { throw new FuzzProbeError('start'); },
      () => 5,
      () => Promise.reject(new FuzzProbeError('start async')),
    ]);
    return { args: [R.pick(['fz', '', 5]), signal(R), start, R.pick([1, null])], async: true };
  },
  memoize: (R) => {
    const fn = R.pick([(x) => api.relu(x), (x) => x.size, () => { throw new FuzzProbeError('memo fn'); }, 5]);
    const inputs = Array.from({ length: 1 + R.int(4) }, () => (R.chance(0.8) ? tens(R, [dim(R)]) : anyValue(R)));
    return {
      args: [fn, R.chance(0.8) ? { maxEntries: R.pick([1, 2, 0, -1, undefined]), maxBytes: R.pick([undefined, 0, 64, -1, 2 ** 60]) } : randomOptions(R, ['maxEntries', 'maxBytes', 'name'])],
      invoke: (args) => {
        const m = api.memoize(...args);
        const res = [];
        for (const x of inputs) {
          res.push(m(x));
          if (x instanceof api.Tensor && R.chance(0.2)) spoil(R, x);
        }
        return res;
      },
    };
  },
  trace: (R) => ({ args: [R.pick([0, 1, 2, -1, NaN, () => api.relu(tens(R, [4])), () => { throw new FuzzProbeError('traced fn'); }, async () => 1]), randomOptions(R, ['maxEvents'])], async: true }),
  startTrace: (R) => ({
    args: [R.chance(0.8) ? { maxEvents: R.pick([undefined, 0, 1, 10, -1, 2 ** 40]) } : randomOptions(R, ['maxEvents'])],
    invoke: (args) => {
      const h = api.startTrace(...args);
      api.relu(tens(R, [4]));
      return R.chance(0.8) && h && typeof h.stop === 'function' ? h.stop() : h;
    },
  }),
  registerMatmul: (R) => registerCall(R, [null, {}, { name: 'fz' }, { name: 'fz', match: () => false, run: () => null }, 5]),
  registerLinear: (R) => API_GENS.registerMatmul(R),
  registerPack: (R) => registerCall(R, [null, {}, { name: 'fz', match: () => false, pack: () => null }, 5]),
  registerCast: (R) => registerCall(R, [null, 5, 'cast', {}]),
  registerAsyncMatmul: (R) => API_GENS.registerMatmul(R),
  registerAsyncLinear: (R) => API_GENS.registerMatmul(R),
  registerWeightCodec: (R) => registerCall(R, [null, {}, { format: 'fz' }, 5]),
  setAutoPack: (R) => ({ args: [R.pick([true, false, 'yes', null])] }),
  setMonitoring: (R) => ({ args: [R.pick([true, false, false, 1, null])] }),
};

// Generators of the exports added later (conv family, ONNX, serving, nn helpers) live in their own file.
Object.assign(API_GENS, MORE_GENS, ONNX_GENS);

/**
 * A register* call: a well-formed impl that never matches is fine; junk accepted silently is flagged 'wrong'
 * (it poisons every later op of the process; the child restores the registries after each register call).
 */
function registerCall(R, choices) {
  const impl = R.pick(choices);
  const wellFormed = impl && typeof impl === 'object' && typeof impl.match === 'function';
  return {
    args: [impl],
    check: wellFormed ? undefined : () => {
      throw new WrongResult('accepted a value that is not an implementation (no match function); later ops of the process fail');
    },
  };
}

/** Factories of instances whose methods the 'method' target calls. */
const INSTANCES = [
  (R) => tens(R, R.pick([[dim(R), dim(R)], [dim(R)], [], [2, 3, 4]]), R.pick(DTYPES)),
  (R) => api.packWeights(tens(R, [dim(R), dim(R)])),
  (R) => api.quantize(tens(R, [dim(R), dim(R)])),
  (R) => api.toSparse(tens(R, [dim(R), dim(R)])),
  (R) => api.packHalfWeights(tens(R, [dim(R), dim(R)])),
  (R) => api.packInt8Weights(api.quantize(tens(R, [dim(R), dim(R)]))),
  (R) => new api.Calibrator(R.chance(0.8) ? { method: R.pick(['minmax', 'percentile', 'entropy']), bins: R.pick([undefined, 8, 0]) } : randomOptions(R, ['method', 'percentile', 'bins', 'axis'])),
  (R) => new api.LatencyHistogram(),
  (R) => smallModel(R),
  (R) => new api.Linear(dim(R), dim(R)),
  (R) => new api.LayerNorm(dim(R)),
  (R) => new api.Dropout(R.pick([0, 0.5])),
  (R) => new api.SGD(smallModel(R).parameters(), { lr: R.pick([0.1, -1, NaN]) }),
  (R) => new api.AdamW(smallModel(R).parameters(), { lr: R.pick([0.01, 0, Infinity]) }),
  (R) => api.gradualPruning({ finalSparsity: 0.5, beginStep: 0, endStep: 10 }),
  ...MORE_INSTANCES,
];

function protoMethods(obj) {
  const out = [];
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      out.push({ k, getter: !!d.get, fn: typeof d.value === 'function' });
    }
  if (!out.length) for (const k of Object.keys(obj)) if (typeof obj[k] === 'function') out.push({ k, getter: false, fn: true });
  return out;
}

/** A method or getter of a random library object, with mostly-relevant arguments. */
function methodCall(R) {
  let obj;
  try {
    obj = R.pick(INSTANCES)(R);
  } catch (e) {
    return { name: 'method(setup)', args: [], invoke: () => { throw e; } };
  }
  if (R.chance(0.15) && obj instanceof api.Tensor) obj = corruptTensor(R, obj);
  const ms = protoMethods(obj);
  if (!ms.length) return { name: 'method(none)', args: [], invoke: () => obj };
  const m = R.pick(ms);
  const nArgs = m.getter ? 0 : R.int(4);
  const args = Array.from({ length: nArgs }, () => (R.chance(0.4) ? R.pick([dim(R), 0, -1, 2 ** 31, 'float16', 'int8', [2, -1], [dim(R)]]) : R.chance(0.5) ? tens(R, [dim(R), dim(R)]) : apiValue(R)));
  const cname = obj?.constructor?.name ?? 'object';
  return {
    name: `${cname}.${m.k}`,
    args,
    invoke: () => (m.getter ? obj[m.k] : obj[m.k](...args)),
    async: true,
  };
}

/** The callable exports (programmatic, so a new export is fuzzed by the generic generator at once). */
export function apiTargets() {
  const names = Object.keys(api).filter((k) => isCallable(api[k]) && !SKIP.has(k));
  return names;
}

/** Generic mutations applied to a generated call's arguments; returns notes ('' when untouched). */
function mutateApi(R, args) {
  const notes = [];
  const which = R.int(7);
  const tensors = [];
  const walk = (v, depth) => {
    if (v instanceof api.Tensor) tensors.push(v);
    else if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && depth < 2 && !(v instanceof Promise)) {
      try {
        for (const x of Object.values(v)) walk(x, depth + 1);
      } catch {
        /* hostile */
      }
    }
  };
  args.forEach((a) => walk(a, 0));
  if (which === 0 && args.length) {
    const i = R.int(args.length);
    args[i] = apiValue(R);
    notes.push(`arg${i}→any`);
  } else if (which === 1 && tensors.length) {
    const t = R.pick(tensors);
    corruptTensor(R, t);
    notes.push(`corrupt ${t.shape ? '' : ''}tensor`);
  } else if (which === 2 && tensors.length) {
    notes.push(`spoil tensor: ${spoil(R, R.pick(tensors))}`);
  } else if (which === 3) {
    const oi = args.findIndex((a) => a && typeof a === 'object' && !(a instanceof api.Tensor) && !ArrayBuffer.isView(a) && !Array.isArray(a));
    if (oi >= 0) {
      const keys = Object.keys(args[oi]);
      const key = keys.length ? R.pick(keys) : R.pick(['out', 'activation', 'bias', 'dtype', 'axis', 'signal']);
      args[oi] = trapOption(R, { ...args[oi] }, key, tensors.length ? R.pick(tensors) : undefined);
      notes.push(`option ${key} trapped`);
    } else if (args.length) {
      args.push(R.pick([null, hostile(R)]));
      notes.push('extra arg');
    }
  } else if (which === 4 && args.length) {
    const i = R.int(args.length);
    args[i] = R.pick([null, undefined, hostile(R)]);
    notes.push(`arg${i}→${args[i] === null ? 'null' : args[i] === undefined ? 'undefined' : 'hostile'}`);
  } else if (which === 5 && args.length) {
    args.length = R.int(args.length);
    notes.push(`truncated to ${args.length}`);
  } else {
    // Aliasing: an out option made to share memory with an input (a sub-view, so the library cannot see it).
    const oi = args.findIndex((a) => a && typeof a === 'object' && 'out' in a);
    if (oi >= 0 && tensors.length) {
      const src = R.pick(tensors);
      const out = args[oi].out;
      if (out instanceof api.Tensor && !isDetached(src.data.buffer) && src.data.buffer.byteLength >= out.size * 4 && src.dtype === 'float32') {
        const view = new Float32Array(src.data.buffer, src.data.byteOffset, Math.min(out.size, src.data.length));
        try {
          args[oi] = { ...args[oi], out: label(api.tensor(view, [view.length]).reshape(out.shape.slice()), 'out(view of input)') };
          notes.push('out overlaps an input');
        } catch {
          /* sizes differ: skip */
        }
      }
    }
  }
  return notes;
}

const INDEX_URL = new URL('../../dist/src/index.js', import.meta.url).href;

/**
 * A worker_thread that loads the package, starts async ops (some with buffers it then detaches) and is terminated
 * after a random delay, possibly with ops in flight: the addon must survive its environment going away.
 */
function workerCall(R) {
  const ops = 1 + R.int(6);
  const delay = R.pick([0, 1, 2, 5, 10, 30]);
  const m = R.pick([1, 8, 64, 200]);
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(INDEX_URL)}).then(async (st) => {
      const a = st.rand([${m}, 64]); const b = st.rand([64, 64]);
      const ps = [];
      for (let i = 0; i < ${ops}; i++) {
        ps.push(st.matmulAsync(a, b).catch(() => {}));
        if (i % 2) ps.push(st.linearAsync(a, st.packWeights(b)).catch(() => {}));
      }
      parentPort.postMessage('started');
      await Promise.all(ps);
      parentPort.postMessage('done');
    });`;
  return {
    name: '#worker',
    args: [label({}, `worker(${ops} async ops on [${m},64]x[64,64], terminate after ${delay} ms)`)],
    invoke: async () => {
      const { Worker } = await import('node:worker_threads');
      const w = new Worker(code, { eval: true });
      await new Promise((resolve) => {
        w.once('message', resolve);
        w.once('error', resolve);
        w.once('exit', resolve);
      });
      await new Promise((r) => setTimeout(r, delay));
      return w.terminate();
    },
    async: true,
    notes: [],
  };
}

/** Builds one public-API call for export `name` (or the 'method' / 'worker' pseudo-targets). */
export function genApiCall(R, name, ctx) {
  if (name === '#method') return { ...methodCall(R), notes: [] };
  if (name === '#worker') return workerCall(R);
  const v = api[name];
  const spec = API_GENS[name];
  let g;
  if (spec) g = spec(R, ctx);
  else {
    const n = Math.min(6, (v.length || 0) + R.int(3));
    g = { args: Array.from({ length: n }, () => apiValue(R)) };
  }
  const notes = g.note ? [g.note] : [];
  if (R.chance(spec ? 0.45 : 0.2)) {
    const mnotes = mutateApi(R, g.args);
    if (mnotes.length) {
      notes.push(...mnotes);
      g.check = undefined;
    }
  }
  const isClass = typeof v === 'function' && /^[A-Z]/.test(name) && /^class\b/.test(Function.prototype.toString.call(v));
  const invoke = g.invoke ?? ((a) => (isClass ? new v(...a) : v(...a)));
  let post;
  if (g.async && R.chance(0.25)) {
    post = () => {
      const ts = g.args.filter((a) => a instanceof api.Tensor);
      if (ts.length) notes.push(`after call: ${spoil(R, R.pick(ts))}`);
    };
  }
  return { name, args: g.args, invoke: () => invoke(g.args), async: true, check: g.check, notes, post, fireAndForget: g.async && R.chance(0.1) };
}
