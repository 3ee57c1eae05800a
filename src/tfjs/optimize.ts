/**
 * An inference pass over a tfjs-layers model: each `Conv2D` / `DepthwiseConv2D` (channels-last, linear activation)
 * absorbs the `BatchNormalization` that alone consumes its output (folded into its kernel and bias), the `ReLU`
 * (max 6 or none) / `Activation('relu' | 'relu6')` that alone consumes that (the fused activation), and a
 * `ZeroPadding2D` that alone feeds it ('valid' padding: the zeros become the conv's explicit pads). The model's
 * topology stays as it is: on concrete tensors the absorbed layers' `apply` hands its input tensor on (no kernel;
 * see passThrough), and the conv's `apply` runs the FusedConv2D / FusedDepthwiseConv2D kernel with the folded
 * weights (its `call`: one `tf.fused.conv2d` / `tf.fused.depthwiseConv2d`). Same-shape `Add` layers run `tf.add`.
 *
 * On MobileNetV2 (nsfwjs) that removes 52 FusedBatchNorm, 35 Relu, 35 ClipByValue and 5 PadV2 kernels a run, and
 * the 92 absorbed layers' Layer.apply calls.
 * Inference only: the model's own weights are unchanged (getWeights / save give the originals), but training it
 * afterwards would not update the folded copies — call it on a model that only predicts.
 * @module
 */
import type { TfCore } from './types.js';
import { monitorHook } from '../ops/registry.js';
import { int8On } from './int8.js';
import { compileLayersModel, PLAN_KERNEL, SPLIT_BYTES } from './plan.js';
import type { CompiledModel, FoldedConv } from './plan.js';

// tfjs-layers' classes are not a dependency of this package: the pass reads the documented fields of the layers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type T = Any;

/** What {@link optimizeLayersModel} did. */
export interface OptimizeSummary {
  /** Conv / depthwise layers rewritten. */
  convs: number;
  /** BatchNormalization layers folded into a conv. */
  batchNorms: number;
  /** Activation layers fused into a conv's epilogue. */
  activations: number;
  /** ZeroPadding2D layers merged into a conv's pads. */
  pads: number;
}

/** Options of {@link optimizeLayersModel}. */
export interface OptimizeOptions {
  /**
   * A batch whose intermediate values exceed this many bytes runs its first layers (up to where every value of the
   * whole batch fits) one sample at a time, so that they stay in cache; the rest runs on the whole batch.
   * Default 1 MiB; Infinity runs every batch whole. Applies to the compiled plan (the simdtensor backend).
   */
  splitBytes?: number;
}

const FOLDED = Symbol.for('simdtensor.tfjs.folded');
const PASS = Symbol('simdtensor.tfjs.passThrough');
/** A conv's folded weights and attributes (what the compiled plan runs). */
const CONV = Symbol('simdtensor.tfjs.foldedConv');
/** A layer the fold made an identity (batch norm, activation or padding absorbed into a conv). */
const ABSORBED = Symbol('simdtensor.tfjs.absorbed');
/** The model's compiled plan (./plan.ts), once routed (a registered symbol: benches read it to profile the steps). */
const PLANNED = Symbol.for('simdtensor.tfjs.planned');

/** The only layer consuming `layer`'s output, or null (several consumers, or a model output). */
function soleConsumer(model: Any, layer: Any): Any {
  if (!layer || layer.inboundNodes?.length !== 1 || layer.outboundNodes?.length !== 1) return null;
  if (model.outputLayers?.includes(layer)) return null;
  const next = layer.outboundNodes[0].outboundLayer;
  return next && next.inboundNodes?.length === 1 && next.inboundNodes[0].inboundLayers?.length === 1 ? next : null;
}

/** The layer feeding `layer` (one input), or null. */
function soleProducer(layer: Any): Any {
  const n = layer.inboundNodes;
  return n?.length === 1 && n[0].inboundLayers?.length === 1 ? n[0].inboundLayers[0] : null;
}

const cls = (l: Any): string => (l && typeof l.getClassName === 'function' ? l.getClassName() : '');

/** The fused activation a layer computes ('relu' / 'relu6'), or null when it is not one. */
function activationOf(l: Any): 'relu' | 'relu6' | null {
  const c = cls(l);
  if (c === 'ReLU') return l.maxValue == null ? 'relu' : l.maxValue === 6 ? 'relu6' : null;
  if (c === 'ReLU6') return 'relu6';
  if (c === 'Activation') {
    const a = cls(l.activation).toLowerCase();
    return a === 'relu' ? 'relu' : a === 'relu6' ? 'relu6' : null;
  }
  return null;
}

const firstInput = (inputs: Any): T => (Array.isArray(inputs) ? inputs[0] : inputs);

/**
 * `layer.apply` on concrete tensors becomes `run(x)` (symbolic inputs — building another model with the layer —
 * still go through the original apply).
 */
function fastApply(layer: Any, run: (x: T) => T): void {
  const original = layer.apply;
  layer.apply = function (inputs: Any, kwargs?: Any) {
    const x = firstInput(inputs);
    return x && typeof x.dataSync === 'function' ? run(x) : original.call(this, inputs, kwargs);
  };
}

/** Marks a layer whose output tensor must outlive its consumer (tfjs-layers' executor does not free a stateful layer's output). */
function keepAlive(layer: Any): void {
  Object.defineProperty(layer, 'stateful', { value: true, configurable: true });
}

/**
 * An absorbed layer hands its input tensor on as its output: no kernel, no copy. tfjs-layers' executor frees a
 * layer's input once its last consumer ran, so the producer (the conv, or the absorbed layer before) is kept alive
 * (`stateful`): the tensor is then freed when the last layer of the chain has been consumed. A chain that starts at
 * a model input (a padding of the input) keeps its last layer alive too: the input is the caller's.
 */
function passThrough(model: Any, layer: Any): void {
  const producer = soleProducer(layer);
  // A producer with other consumers (or a model output) cannot be kept alive without holding its tensor to the end
  // of the run: the layer then stays an identity op (its call: tf.clone, no copy).
  if (!producer || (cls(producer) !== 'InputLayer' && !soleConsumer(model, producer))) return;
  fastApply(layer, (x) => x);
  layer[PASS] = true;
  keepAlive(producer);
  let root = producer;
  while (root && root[PASS]) root = soleProducer(root);
  if (!root || cls(root) === 'InputLayer') keepAlive(layer);
}

/**
 * Folds batch norms, activations and zero paddings into the convolutions of a tfjs-layers model (see the module
 * comment); returns what it rewrote. Idempotent: an already rewritten layer is left alone.
 */
export function optimizeLayersModel(tf: TfCore, model: Any, opts: OptimizeOptions = {}): OptimizeSummary {
  const splitBytes = opts.splitBytes ?? SPLIT_BYTES;
  if (!(typeof splitBytes === 'number' && splitBytes >= 0)) throw new RangeError(`optimizeLayersModel: opts.splitBytes must be a number >= 0 (or Infinity), got ${String(splitBytes)}`);
  if (!model || !Array.isArray(model.layers)) throw new TypeError('optimizeLayersModel: model must be a tfjs-layers LayersModel (with .layers)');
  const sum: OptimizeSummary = { convs: 0, batchNorms: 0, activations: 0, pads: 0 };
  const identity = (inputs: Any) => tf.clone(firstInput(inputs));
  for (const conv of model.layers as Any[]) {
    const c = cls(conv);
    if ((c !== 'Conv2D' && c !== 'DepthwiseConv2D') || conv[FOLDED] || !conv.built) continue;
    if (conv.dataFormat !== 'channelsLast' || cls(conv.activation).toLowerCase() !== 'linear' || conv.inboundNodes?.length !== 1) continue;
    const depthwise = c === 'DepthwiseConv2D';
    const kernelVar = depthwise ? conv.depthwiseKernel : conv.kernel;
    if (!kernelVar) continue;
    const kernel: T = kernelVar.read();
    if (kernel.rank !== 4) continue;
    const channels = depthwise ? kernel.shape[2] * kernel.shape[3] : kernel.shape[3];

    // The chain: [ZeroPadding2D] → conv → [BatchNormalization] → [ReLU / Activation].
    let bn: Any = soleConsumer(model, conv);
    const axisOk = (l: Any) => l.axis === -1 || l.axis === 3;
    if (!(cls(bn) === 'BatchNormalization' && axisOk(bn) && bn.built && bn.movingMean && bn.movingVariance)) bn = null;
    const tail = bn ?? conv;
    let act: Any = soleConsumer(model, tail);
    const activation = activationOf(act);
    if (!activation) act = null;
    let pad: Any = soleProducer(conv);
    const padding = pad && cls(pad) === 'ZeroPadding2D' && pad.dataFormat === 'channelsLast' && soleConsumer(model, pad) === conv && conv.padding === 'valid' ? pad.padding : null;
    if (!padding) pad = null;
    if (!bn && !act && !pad) {
      // Nothing to fold: the layer stays as it is, but the compiled plan can still run it.
      conv[CONV] = { filter: kernel, bias: conv.bias ? conv.bias.read() : null, attrs: { strides: conv.strides, pad: conv.padding, dilations: conv.dilationRate ?? [1, 1] }, activation: 'linear', depthwise } satisfies FoldedConv;
      continue;
    }

    // Folded weights: w' = w·k, b' = (b − mean)·k + beta, k = gamma / √(variance + ε), per output channel.
    const [filter, bias] = tf.tidy(() => {
      let w: T = kernel;
      let b: T = conv.bias ? conv.bias.read() : null;
      if (bn) {
        const mean = bn.movingMean.read(), variance = bn.movingVariance.read();
        let k: T = tf.rsqrt(tf.add(variance, bn.epsilon));
        if (bn.gamma) k = tf.mul(k, bn.gamma.read());
        const kw = depthwise ? tf.reshape(k, [kernel.shape[2], kernel.shape[3]]) : k;
        w = tf.mul(w, kw);
        b = tf.mul(b ? tf.sub(b, mean) : tf.neg(mean), k);
        if (bn.beta) b = tf.add(b, bn.beta.read());
      }
      return [tf.keep(w), b ? tf.keep(b) : null];
    });
    if (bias && bias.size !== channels) {
      tf.dispose([filter, bias]);
      continue;
    }
    const strides: [number, number] = conv.strides;
    const dilations: [number, number] = conv.dilationRate ?? [1, 1];
    const pads = padding ? [[0, 0], padding[0], padding[1], [0, 0]] : conv.padding;
    const fusedAct = activation ?? 'linear';
    conv.call = (inputs: Any) =>
      tf.tidy(() => {
        const x = firstInput(inputs);
        const o = { x, filter, strides, pad: pads, dataFormat: 'NHWC', dilations, bias: bias ?? undefined, activation: fusedAct };
        return depthwise ? tf.fused.depthwiseConv2d(o as Any) : tf.fused.conv2d(o as Any);
      });
    // On concrete tensors, apply runs the fused kernel directly: no Layer.apply bookkeeping (name scope, input-spec
    // checks), no op wrapper (its argument checks and custom-gradient closure). The attrs object is the same on every
    // call, so the backend can keep its planned call under it (src/tfjs/conv.ts).
    const kernelName = depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D';
    const attrs = { strides, pad: pads, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined, activation: fusedAct, leakyreluAlpha: undefined };
    const kernelInputs: Record<string, T> = bias ? { filter, bias } : { filter };
    fastApply(conv, (x: T) => tf.engine().runKernel(kernelName, { x, ...kernelInputs }, attrs as Any));
    conv[FOLDED] = true;
    conv[CONV] = { filter, bias, attrs: { strides, pad: pads, dilations }, activation: fusedAct, depthwise } satisfies FoldedConv;
    sum.convs++;
    for (const l of [bn, act, pad]) {
      if (!l) continue;
      l.call = identity;
      passThrough(model, l);
      l[FOLDED] = true;
      l[ABSORBED] = true;
    }
    if (bn) sum.batchNorms++;
    if (act) sum.activations++;
    if (pad) sum.pads++;
  }
  // Residual Adds (MobileNetV2 has ten) of same-shape tensors: the Add kernels directly, without Layer.apply and
  // the Merge layer's shape handling (a reshape per input), on concrete tensors.
  for (const l of model.layers as Any[]) {
    if (cls(l) !== 'Add' || l[FOLDED]) continue;
    const original = l.apply;
    l.apply = function (inputs: Any, kwargs?: Any) {
      const xs: T[] | null = Array.isArray(inputs) && inputs.length >= 2 ? inputs : null;
      const s0 = xs?.[0]?.shape;
      if (!xs || !xs.every((t) => t && typeof t.dataSync === 'function' && t.shape.length === s0.length && t.shape.every((d: number, i: number) => d === s0[i])))
        return original.call(this, inputs, kwargs);
      let y: T = tf.add(xs[0], xs[1]);
      for (let i = 2; i < xs.length; i++) {
        const z = tf.add(y, xs[i]);
        y.dispose();
        y = z;
      }
      return y;
    };
    l[FOLDED] = true;
  }
  if (!model[PLANNED]) {
    const compiled = compileLayersModel(tf, model, (l) => l[CONV], (l) => !!l[ABSORBED]);
    if (compiled) {
      compiled.setSplitBytes(splitBytes);
      routeToPlan(tf, model, compiled);
    }
  } else model[PLANNED].setSplitBytes(splitBytes);
  return sum;
}

/**
 * `predict`, `predictOnBatch` and `execute` (of the model's output) on one concrete float32 input run the compiled
 * plan as one `SimdtensorLayersModel` kernel when the current backend has it (simdtensor) and nothing needs the
 * per-layer path: no gradient tape, no op monitoring, no int8 mode, a batch whose plan exists. Anything else —
 * another backend, symbolic or several inputs, other outputs — takes tfjs-layers' own path.
 */
function routeToPlan(tf: TfCore, model: Any, compiled: CompiledModel): void {
  model[PLANNED] = compiled;
  const engine = tf.engine() as Any;
  const usable = (x: Any): boolean =>
    !!x &&
    typeof x.dataSync === 'function' &&
    !x.isDisposed &&
    x.dtype === 'float32' &&
    compiled.accepts(x.shape) &&
    !monitorHook.on &&
    !int8On() &&
    engine.state.gradientDepth === 0 &&
    tf.getKernel(PLAN_KERNEL, tf.getBackend()) !== undefined &&
    compiled.planFor(x.shape[0]) !== null;
  const run = (x: T): T => tf.engine().runKernel(PLAN_KERNEL, { x }, { model: compiled } as Any);
  const one = (x: Any): T => (Array.isArray(x) && x.length === 1 ? x[0] : x);
  for (const name of ['predict', 'predictOnBatch']) {
    const original = model[name];
    if (typeof original !== 'function') continue;
    model[name] = function (x: Any, ...rest: Any[]) {
      const t = one(x);
      return usable(t) ? run(t) : original.call(this, x, ...rest);
    };
  }
  const execute = model.execute;
  const outName: string = model.outputs[0].name, inName: string = model.inputs[0].name;
  model.execute = function (inputs: Any, outputs: Any) {
    const t = one(inputs && !Array.isArray(inputs) && typeof inputs.dataSync !== 'function' && Object.keys(inputs).length === 1 ? inputs[inName] : inputs);
    const wanted = Array.isArray(outputs) ? outputs.length === 1 && outputs[0] === outName : outputs === outName;
    if (!wanted || !usable(t)) return execute.call(this, inputs, outputs);
    const y = run(t);
    return Array.isArray(outputs) ? [y] : y;
  };
}
