/**
 * ONNX ⇄ nn: `onnxToSequential` imports an MLP-shaped ONNX graph (a single chain of MatMul(+Add) / Gemm, Relu,
 * Gelu, LayerNormalization, Flatten, Identity, Dropout) as a trainable nn `Sequential` with the file's weights;
 * `sequentialToOnnx` writes a Sequential back as a standard ONNX graph (Gemm, Relu, Erf-form GELU,
 * LayerNormalization, Sub/Mul for Normalize) that onnxruntime loads. Both work on the unfused source graph.
 * @module
 */
import { describe, options, rangeError, typeError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { checkOpts } from '../../nn/check.js';
import { Dropout, GELU, Layer, LayerNorm, Linear, Normalize, ReLU, Sequential } from '../../nn/layers.js';
import { onnxProto } from '../load.js';
import { loadOnnx, OnnxModel, type LoadOnnxOptions } from '../model.js';
import type { Value } from '../value.js';
import { editOf } from '../export.js';
import { attr, attrF, attrI, big, DT, EditModel, rawTensorProto, type Msg } from './proto.js';

/** Options of {@link onnxToSequential}. */
export interface OnnxToSequentialOptions {
  /**
   * A graph that ends in Softmax / LogSoftmax over the last axis: 'error' (default) fails, 'drop' imports the
   * logits before it (what training and distillation want).
   */
  finalSoftmax?: 'error' | 'drop';
}

const SKIP = new Set(['Identity', 'Dropout']);

function f32Const(fn: string, m: EditModel, node: Msg, name: string, what: string): Float32Array {
  const v = m.constValue(name);
  if (!v) throw rangeError(fn, `node '${node.name}' (${node.opType}): its ${what} '${name}' is not a constant initializer, so it cannot become a layer parameter`);
  if (v.dtype === 'float32') return (v.data as Float32Array).slice();
  if (v.dtype === 'float64') return Float32Array.from(v.data as Float64Array);
  throw rangeError(fn, `node '${node.name}' (${node.opType}): its ${what} '${name}' is ${v.dtype}; only float32 weights import into nn layers`);
}

function constShape(m: EditModel, name: string): number[] {
  return (m.constValue(name) as Value).shape.slice();
}

/**
 * The model's graph as a trainable nn `Sequential` (float32 weights imported; see the module description).
 * The graph must be one chain from its single float input to its first output. Fails with a TypeError naming
 * the first node that cannot be mapped onto simdtensor's nn layers.
 */
export function onnxToSequential(model: OnnxModel, opts: OnnxToSequentialOptions | null = {}): Sequential {
  const fn = 'onnxToSequential';
  opts = checkOpts<OnnxToSequentialOptions>(fn, options(fn, opts));
  const finalSoftmax = opts.finalSoftmax ?? 'error';
  if (finalSoftmax !== 'error' && finalSoftmax !== 'drop') throw typeError(fn, `opts.finalSoftmax must be 'error' or 'drop', got ${describe(finalSoftmax)}`);
  const m = editOf(fn, model);
  const g = m.graph;
  const inputs = (g.input ?? []) as Msg[];
  if (inputs.length !== 1) throw rangeError(fn, `an MLP graph has one input, this one has ${inputs.length} (${inputs.map((i) => `'${i.name}'`).join(', ')})`);
  const outputs = (g.output ?? []) as Msg[];
  if (outputs.length === 0) throw rangeError(fn, 'the graph has no outputs');
  const target = outputs[0].name as string;
  const inDims = ((inputs[0].type?.tensorType?.shape?.dim ?? []) as Msg[]).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(big(d.dimValue)) > 0 ? Number(big(d.dimValue)) : null));

  const readers = (name: string) => (m.nodes as Msg[]).filter((n) => (n.input as string[]).includes(name));
  const layers: Layer[] = [];
  // Features of the running value (the last dim), null until known.
  let features: number | null = inDims.length === 2 ? inDims[1] : null;
  let rank = inDims.length || null;
  let cur = inputs[0].name as string;
  const seen = new Set<Msg>();

  const notMappable = (n: Msg, why = '') =>
    typeError(fn, `node '${n.name || n.output[0]}' (${n.opType}) is not trainable by simdtensor's nn layers${why ? `: ${why}` : ''}`);

  /** A scalar constant input of `n` other than `x` (its value), or null. */
  const scalarOf = (n: Msg, x: string): number | null => {
    const other = (n.input as string[]).filter((i) => i !== x);
    if (other.length !== 1 || n.input.length !== 2) return null;
    const v = m.constValue(other[0]);
    return v && v.size === 1 && (v.dtype === 'float32' || v.dtype === 'float64') ? Number(v.data[0]) : null;
  };
  const near = (a: number | null, b: number) => a !== null && Math.abs(a - b) <= 1e-4 * Math.abs(b);
  const only = (name: string, op: string): Msg | null => {
    const r = readers(name);
    return r.length === 1 && r[0].opType === op && !outputs.some((o) => o.name === name) ? r[0] : null;
  };
  /** GELU written out as 0.5·x·(1 + Erf(x/√2)) (either order of the 0.5): the node set and its output, or null. */
  const geluAt = (x: string, rs: Msg[]): { nodes: Msg[]; out: string } | null => {
    const scale = rs.find((n) => (n.opType === 'Div' && n.input[0] === x && near(scalarOf(n, x), Math.SQRT2)) || (n.opType === 'Mul' && near(scalarOf(n, x), Math.SQRT1_2)));
    if (!scale) return null;
    const erf = only(scale.output[0], 'Erf');
    const add = erf && only(erf.output[0], 'Add');
    if (!add || !near(scalarOf(add, erf.output[0]), 1)) return null;
    const mul = only(add.output[0], 'Mul');
    if (!mul) return null;
    const other = mul.input[0] === add.output[0] ? mul.input[1] : mul.input[0];
    if (rs.length !== 2) return null;
    if (other === x && rs.includes(mul)) {
      const half = only(mul.output[0], 'Mul');
      if (half && near(scalarOf(half, mul.output[0]), 0.5)) return { nodes: [scale, erf, add, mul, half], out: half.output[0] };
    } else {
      const half = rs.find((n) => n !== scale && n.opType === 'Mul' && n.output[0] === other && near(scalarOf(n, x), 0.5));
      if (half && only(half.output[0], 'Mul') === mul) return { nodes: [scale, half, erf, add, mul], out: mul.output[0] };
    }
    return null;
  };

  while (cur !== target) {
    const rs = readers(cur);
    if (rs.length === 0) throw rangeError(fn, `value '${cur}' is read by no node before the output '${target}' (the graph is not a single chain)`);
    const gl = geluAt(cur, rs);
    if (gl) {
      layers.push(new GELU());
      cur = gl.out;
      continue;
    }
    if (rs.length === 1 && rs[0].opType === 'Sub' && rs[0].input[0] === cur && m.constValue(rs[0].input[1])) {
      // (x − mean)·invStd or (x − mean)/std: a Normalize layer.
      const sub = rs[0];
      const next = only(sub.output[0], 'Mul') ?? only(sub.output[0], 'Div');
      const mean = f32Const(fn, m, sub, sub.input[1], 'mean');
      const k = features ?? mean.length;
      const sc = next && (next.input[0] === sub.output[0] ? next.input[1] : next.input[0]);
      if (next && sc && m.constValue(sc) && (next.opType === 'Mul' || next.input[1] === sc)) {
        const s = f32Const(fn, m, next, sc, 'scale');
        const full = (a: Float32Array) => (a.length === k ? a : a.length === 1 ? new Float32Array(k).fill(a[0]) : null);
        const mu = full(mean), sv = full(s);
        if (mu && sv && (rank === null || rank === 2)) {
          const inv = next.opType === 'Mul' ? sv : sv.map((v) => 1 / v);
          layers.push(new Normalize(new Tensor(mu, [k], 'float32', k), new Tensor(inv, [k], 'float32', k)));
          features = k;
          cur = next.output[0];
          continue;
        }
      }
    }
    if (rs.length > 1) throw notMappable(rs[1], `value '${cur}' feeds ${rs.length} nodes (${rs.map((r) => `'${r.name}'`).join(', ')}); only single-chain MLP graphs import`);
    const n = rs[0];
    if (seen.has(n)) throw rangeError(fn, `node '${n.name}' is reached twice (the graph has a cycle)`);
    seen.add(n);
    const op = n.opType as string;
    if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') throw notMappable(n, `domain '${n.domain}'`);
    const dataIn = (n.input as string[]).filter((x) => x && !m.constValue(x));
    if (dataIn.length !== 1 || n.input[0] !== cur) {
      if (op !== 'MatMul' && op !== 'Add' && op !== 'Mul') throw notMappable(n, `it combines ${dataIn.length} computed inputs`);
    }
    let out = n.output[0] as string;
    if (SKIP.has(op)) {
      // Identity, and Dropout at inference (its mask output must be unread).
      if (op === 'Dropout' && n.output.length > 1 && n.output[1] && readers(n.output[1]).length) throw notMappable(n, 'its mask output is read');
    } else if (op === 'Flatten') {
      const axis = attrI(n, 'axis', 1);
      if (axis !== 1) throw notMappable(n, `Flatten axis ${axis} (only axis 1, to [rows, features])`);
      if (rank !== null && rank > 2 && inDims.length === rank && inDims.slice(1).every((d) => d !== null)) features = inDims.slice(1).reduce((a, b) => a! * b!, 1);
      else if (rank !== 2) features = null;
      rank = 2;
    } else if (op === 'MatMul' || op === 'Gemm') {
      let w: Float32Array, out_: number, in_: number;
      let bias: Float32Array | null = null;
      if (op === 'MatMul') {
        if (n.input[0] !== cur || !m.constValue(n.input[1])) throw notMappable(n, 'only x·W with a constant W maps to a Linear layer');
        const s = constShape(m, n.input[1]);
        if (s.length !== 2) throw notMappable(n, `weight '${n.input[1]}' has shape [${s.join(', ')}], a Linear needs 2-D`);
        [in_, out_] = s;
        const W = f32Const(fn, m, n, n.input[1], 'weight');
        w = new Float32Array(in_ * out_);
        for (let i = 0; i < in_; i++) for (let o = 0; o < out_; o++) w[o * in_ + i] = W[i * out_ + o];
        // A following Add of a constant [out] / [1, out] vector is the bias.
        const next = readers(out);
        if (out !== target && next.length === 1 && next[0].opType === 'Add') {
          const add = next[0];
          const other = add.input[0] === out ? add.input[1] : add.input[0];
          const bv = m.constValue(other);
          if (bv && bv.size === out_ && bv.shape.length <= 2 && (bv.shape.length < 2 || bv.shape[0] === 1)) {
            bias = f32Const(fn, m, add, other, 'bias');
            seen.add(add);
            out = add.output[0];
          }
        }
      } else {
        if (attrI(n, 'transA', 0)) throw notMappable(n, 'transA=1');
        if (n.input[0] !== cur || !m.constValue(n.input[1])) throw notMappable(n, 'only Gemm(x, constant B, constant C) maps to a Linear layer');
        const transB = attrI(n, 'transB', 0) !== 0;
        const alpha = attrF(n, 'alpha', 1), beta = attrF(n, 'beta', 1);
        const s = constShape(m, n.input[1]);
        if (s.length !== 2) throw notMappable(n, `B has shape [${s.join(', ')}]`);
        const B = f32Const(fn, m, n, n.input[1], 'weight');
        if (transB) {
          [out_, in_] = s;
          w = B;
          if (alpha !== 1) for (let i = 0; i < w.length; i++) w[i] *= alpha;
        } else {
          [in_, out_] = s;
          w = new Float32Array(in_ * out_);
          for (let i = 0; i < in_; i++) for (let o = 0; o < out_; o++) w[o * in_ + i] = alpha * B[i * out_ + o];
        }
        const c = n.input[2];
        if (c) {
          const cv = m.constValue(c);
          if (!cv) throw notMappable(n, `C '${c}' is not a constant`);
          if (cv.size === 1) bias = new Float32Array(out_).fill(beta * f32Const(fn, m, n, c, 'bias')[0]);
          else if (cv.size === out_ && (cv.shape.length < 2 || cv.shape[0] === 1)) bias = f32Const(fn, m, n, c, 'bias').map((v) => beta * v);
          else throw notMappable(n, `C has shape [${cv.shape.join(', ')}]; a Linear bias must broadcast over rows ([${out_}] or [1, ${out_}])`);
        }
        if (rank !== null && rank !== 2) throw notMappable(n, `Gemm needs 2-D input, this one has rank ${rank}`);
      }
      if (features !== null && features !== in_) throw notMappable(n, `its weight takes ${in_} features, the value before it has ${features}`);
      const lin = Linear.from(new Tensor(w, [out_, in_], 'float32', w.length), bias ? new Tensor(bias, [out_], 'float32', out_) : null);
      layers.push(lin);
      features = out_;
    } else if (op === 'Relu') {
      layers.push(new ReLU());
    } else if (op === 'Gelu') {
      const a = attr(n, 'approximate');
      const approx = a ? new TextDecoder().decode(a.s as Uint8Array) : 'none';
      if (approx !== 'none') throw notMappable(n, `approximate='${approx}' (nn's GELU is the erf form)`);
      layers.push(new GELU());
    } else if (op === 'LayerNormalization') {
      const axis = attrI(n, 'axis', -1);
      if (axis !== -1 && !(rank !== null && axis === rank - 1)) throw notMappable(n, `axis ${axis} (nn's LayerNorm normalises the last axis)`);
      if (n.output.length > 1 && n.output.slice(1).some((o: string) => o && readers(o).length)) throw notMappable(n, 'its mean / inverse-std outputs are read');
      const scale = f32Const(fn, m, n, n.input[1], 'scale');
      if (features !== null && scale.length !== features) throw notMappable(n, `scale has ${scale.length} elements, the value has ${features} features`);
      const ln = new LayerNorm(scale.length, { eps: attrF(n, 'epsilon', 1e-5) });
      ln.gamma.value.data.set(scale);
      if (n.input[2]) ln.beta.value.data.set(f32Const(fn, m, n, n.input[2], 'bias'));
      layers.push(ln);
      features = scale.length;
    } else if ((op === 'Softmax' || op === 'LogSoftmax') && out === target) {
      const axis = attrI(n, 'axis', (m.opset('') ?? 13) >= 13 ? -1 : 1);
      if (finalSoftmax === 'error' || !(axis === -1 || axis === 1))
        throw notMappable(n, finalSoftmax === 'error' ? `the graph ends in ${op}; pass { finalSoftmax: 'drop' } to import the logits before it` : `axis ${axis}`);
    } else {
      throw notMappable(n);
    }
    cur = out;
  }
  if (layers.length === 0 || !layers.some((l) => l instanceof Linear)) throw rangeError(fn, 'the graph has no MatMul/Gemm layer to train');
  return new Sequential(layers);
}

/** Options of {@link sequentialToOnnx}. */
export interface SequentialToOnnxOptions {
  /** Name of the graph input (default 'input'). */
  inputName?: string;
  /** Name of the graph output (default 'output'). */
  outputName?: string;
  /**
   * Declared input dims (default [batch, features]); a rank above 2 (e.g. ['n', 1, 8, 8]) is flattened to
   * [n, features] first, so the file takes the same feeds as a teacher with image-shaped input.
   */
  inputDims?: (number | string)[];
  /** End in Softmax over the last axis (outputs probabilities, like a teacher that ends in Softmax). */
  finalSoftmax?: boolean;
  /** Options passed to loadOnnx for the returned model. */
  load?: LoadOnnxOptions;
}

/**
 * Writes a Sequential of Linear / ReLU / GELU / LayerNorm / Dropout / Normalize layers as an ONNX model
 * (opset 17: Gemm with transB=1, Relu, GELU as 0.5·x·(1 + Erf(x/√2)), LayerNormalization, Sub/Mul; Dropout is
 * left out as at inference). Input `[n, features]` float32 with a symbolic batch dim. Linear layers must still
 * hold their float32 weights. Returns the file bytes; {@link sequentialToOnnxModel} loads them.
 */
export function sequentialToOnnx(model: Sequential, opts: SequentialToOnnxOptions | null = {}): Uint8Array {
  return encodeSequential('sequentialToOnnx', model, opts);
}

/** sequentialToOnnx's work, its errors naming `fn` (the export the caller used). */
function encodeSequential(fn: string, model: Sequential, opts: SequentialToOnnxOptions | null): Uint8Array {
  if (!(model instanceof Sequential)) throw typeError(fn, `model must be a Sequential, got ${describe(model)}`);
  opts = checkOpts<SequentialToOnnxOptions>(fn, options(fn, opts));
  const inName = opts.inputName ?? 'input', outName = opts.outputName ?? 'output';
  for (const [k, v] of [['opts.inputName', inName], ['opts.outputName', outName]] as const)
    if (typeof v !== 'string' || v === '') throw typeError(fn, `${k} must be a non-empty string, got ${describe(v)}`);
  if (inName === outName) throw rangeError(fn, `opts.inputName and opts.outputName must differ, both are '${inName}'`);
  const nodes: Msg[] = [], inits: Msg[] = [];
  let seq = 0;
  const init = (base: string, dims: number[], data: Float32Array) => {
    const name = `${base}_${seq++}`;
    inits.push(rawTensorProto(name, DT.FLOAT, dims, data));
    return name;
  };
  const node = (op: string, ins: string[], attrs: Msg[] = []) => {
    const o = `${op.toLowerCase()}_${seq++}`;
    nodes.push(onnxProto.NodeProto.create({ opType: op, name: `${op}_${seq++}`, input: ins, output: [o], attribute: attrs }));
    return o;
  };
  const A = (name: string, type: number, v: Msg) => onnxProto.AttributeProto.create({ name, type, ...v });
  const inDims = opts.inputDims;
  if (inDims !== undefined && (!Array.isArray(inDims) || inDims.length < 2 || inDims.some((d) => !(typeof d === 'string' ? d !== '' : Number.isSafeInteger(d) && d > 0))))
    throw typeError(fn, `opts.inputDims must list at least 2 dims (positive integers or names), got ${describe(inDims)}`);
  let cur = inName;
  if (inDims && inDims.length > 2) cur = node('Flatten', [cur], [A('axis', 2, { i: 1 })]);
  let inFeatures: number | null = null;
  let features: number | null = null;
  const setIn = (k: number, i: number) => {
    if (features !== null && features !== k) throw rangeError(fn, `layer ${i} takes ${k} features, the layer before it gives ${features}`);
    if (inFeatures === null) inFeatures = k;
  };
  model.layers.forEach((l, i) => {
    if (l instanceof Linear) {
      if (!l.weight) throw rangeError(fn, `layer ${i} (Linear, ${l.format}) has no float32 weight to write`);
      setIn(l.inFeatures, i);
      const w = init(`w${i}`, [l.outFeatures, l.inFeatures], l.weight.value.data.slice());
      const ins = [cur, w];
      if (l.bias) ins.push(init(`b${i}`, [l.outFeatures], l.bias.value.data.slice()));
      cur = node('Gemm', ins, [A('transB', 2, { i: 1 })]);
      features = l.outFeatures;
    } else if (l instanceof ReLU) {
      cur = node('Relu', [cur]);
    } else if (l instanceof GELU) {
      const x = cur;
      const e = node('Erf', [node('Div', [x, init('sqrt2', [], Float32Array.of(Math.SQRT2))])]);
      cur = node('Mul', [node('Mul', [x, node('Add', [e, init('one', [], Float32Array.of(1))])]), init('half', [], Float32Array.of(0.5))]);
    } else if (l instanceof LayerNorm) {
      setIn(l.features, i);
      cur = node('LayerNormalization', [cur, init(`gamma${i}`, [l.features], l.gamma.value.data.slice()), init(`beta${i}`, [l.features], l.beta.value.data.slice())], [A('axis', 2, { i: -1 }), A('epsilon', 1, { f: l.eps })]);
    } else if (l instanceof Normalize) {
      setIn(l.features, i);
      cur = node('Mul', [node('Sub', [cur, init(`mean${i}`, [l.features], l.mean.data.slice())]), init(`invstd${i}`, [l.features], l.invStd.data.slice())]);
    } else if (l instanceof Dropout) {
      // Inference: identity.
    } else {
      throw typeError(fn, `layer ${i} (${l.type}) has no ONNX form here (Linear, ReLU, GELU, LayerNorm, Dropout, Normalize)`);
    }
  });
  if (inFeatures === null) throw rangeError(fn, 'the model has no Linear, LayerNorm or Normalize layer, so its input width is unknown');
  if (inDims) {
    const fixed = inDims.slice(1);
    if (fixed.every((d) => typeof d === 'number') && (fixed as number[]).reduce((a, b) => a * b, 1) !== inFeatures)
      throw rangeError(fn, `opts.inputDims [${inDims.join(', ')}] hold ${(fixed as number[]).reduce((a, b) => a * b, 1)} values a row, the model takes ${inFeatures}`);
  }
  if (opts.finalSoftmax) cur = node('Softmax', [cur], [A('axis', 2, { i: -1 })]);
  if (cur === inName) nodes.push(onnxProto.NodeProto.create({ opType: 'Identity', name: 'Identity_out', input: [cur], output: [outName] }));
  else nodes[nodes.length - 1].output = [outName];
  const dim = (d: number | string | null) => (d === null ? { dimParam: 'features' } : typeof d === 'string' ? { dimParam: d } : { dimValue: d });
  const vi = (name: string, dims: (number | string | null)[]) => ({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map(dim) } } } });
  const batch = inDims ? inDims[0] : 'batch';
  const proto = {
    irVersion: 8,
    producerName: 'simdtensor',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'sequential', node: nodes, initializer: inits, input: [vi(inName, inDims ?? [batch, inFeatures])], output: [vi(outName, [batch, features ?? inFeatures])] },
  };
  return onnxProto.ModelProto.encode(proto).finish();
}

/** {@link sequentialToOnnx}, loaded as an OnnxModel (so `saveOnnx` and the ONNX transforms apply to it). */
export function sequentialToOnnxModel(model: Sequential, opts: SequentialToOnnxOptions | null = {}): OnnxModel {
  const fn = 'sequentialToOnnxModel';
  const o = options(fn, opts);
  const bytes = encodeSequential(fn, model, o);
  if (o.load !== undefined && (o.load === null || typeof o.load !== 'object')) throw typeError(fn, `opts.load must be loadOnnx options (an object), got ${describe(o.load)}`);
  return loadOnnx(bytes, o.load ?? {});
}
