/**
 * Model layers: Linear (any weight `linear` accepts: f32, packed f32, int8, f16/bf16, sparse), ReLU, GELU,
 * LayerNorm, Dropout, Normalize and Sequential. Forward and backward passes run on the package's kernels: GEMMs
 * through `matmul`/`linear` with the bias and a ReLU/GELU fused into the epilogue, everything elementwise through
 * the elementwise and training kernels.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { gelu, layerNorm, mul, relu, sub } from '../f32/eltwise.js';
import { linear, matmul, packWeights, PackedWeights, type Weights } from '../ops/matmul.js';
import type { Activation } from '../ops/registry.js';
import { checkTensor, MAX_ELEMENTS, rand, Tensor } from '../tensor.js';
import { checkOpts, layerSize, nonNegativeInt } from './check.js';
import { f32, geluBackward, reluBackward, rowsCols, train, transpose } from './kernels.js';

/** A trainable float32 tensor with its gradient, an optional pruning mask and optimizer state. */
export class Parameter {
  /** Name within its layer ('weight', 'bias', 'gamma', 'beta'). */
  readonly name: string;
  /** The values (updated in place by optimizers). */
  readonly value: Tensor<'float32'>;
  /** d loss / d value, overwritten by each backward pass. */
  readonly grad: Tensor<'float32'>;
  /** Whether weight decay applies (weights yes; biases and norm parameters no). */
  readonly decay: boolean;
  /** Pruning mask (1 keeps, 0 prunes); optimizers keep masked entries at zero. */
  mask: Tensor<'float32'> | null = null;
  /** Optimizer slots (momentum, Adam moments), keyed by the optimizer. */
  readonly state = new Map<string, Float32Array>();
  /** Bumped by every update, so derived forms (packed, quantized) know when they are stale. */
  version = 0;

  constructor(name: string, value: Tensor<'float32'>, decay: boolean) {
    if (typeof name !== 'string') throw typeError('Parameter', `name must be a string, got ${describe(name)}`);
    if (typeof decay !== 'boolean') throw typeError('Parameter', `decay must be a boolean, got ${describe(decay)}`);
    this.name = name;
    this.value = f32('Parameter', 'value', value);
    this.grad = new Tensor(new Float32Array(value.size), value.shape, 'float32', value.size);
    this.decay = decay;
  }

  /** Sets the pruning mask (or clears it with null) and zeroes the masked values now. */
  setMask(mask: Tensor | null): void {
    if (mask === null) {
      this.mask = null;
      return;
    }
    const m = f32('Parameter.setMask', 'mask', mask);
    if (m.size !== this.value.size)
      throw rangeError('Parameter.setMask', `mask has shape [${m.shape.join(', ')}], ${this.name} has [${this.value.shape.join(', ')}]`);
    this.mask = m;
    mul(this.value, m, { out: this.value });
    this.version++;
  }
}

/** Per-layer scratch tensors reused across calls of the same size (intermediate activations and gradients). */
class Scratch {
  private readonly bufs = new Map<string, Tensor<'float32'>>();
  get(key: string, shape: readonly number[]): Tensor<'float32'> {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = this.bufs.get(key);
    if (t && t.size === n) return t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) ? t : t.reshape(shape);
    const fresh = new Tensor(new Float32Array(n), shape.slice(), 'float32', n);
    this.bufs.set(key, fresh);
    return fresh;
  }
}

/** A layer's description in a model file (see docs/models.md). */
export type LayerConfig =
  | {
      type: 'linear';
      inFeatures: number;
      outFeatures: number;
      bias: boolean;
      weightFormat?: string;
      inputQuant?: { dtype: 'int8' | 'uint8'; scale: number; zeroPoint: number };
    }
  | { type: 'relu' }
  | { type: 'gelu' }
  | { type: 'layernorm'; features: number; eps: number }
  | { type: 'dropout'; p: number }
  | { type: 'normalize'; features: number }
  | { type: 'sequential'; layers: LayerConfig[] };

/** Options of a forward call. */
export interface ForwardOptions {
  /** Activation fused into the layer's epilogue (Linear only; Sequential sets it when a ReLU/GELU follows). */
  activation?: Activation;
  /** Write the result here (a scratch buffer owned by the caller). */
  out?: Tensor<'float32'>;
  /** Return the output requantized with these parameters (a static int8 Linear followed by another). */
  requant?: { dtype: 'int8' | 'uint8'; scale: number; zeroPoint: number };
}

/**
 * Fixed quantization parameters of a layer input (uint8/int8, per tensor) and the function applying them
 * (supplied by the int8 module, so layers do not depend on it).
 */
export interface InputQuant {
  dtype: 'int8' | 'uint8';
  scale: number;
  zeroPoint: number;
  /** float32 → quantized tensor with these parameters; an already quantized input with the same ones passes through. */
  quantize(x: unknown): unknown;
}

/** Base of every layer: forward, backward (training), parameters, and the configuration saved in model files. */
export abstract class Layer {
  /** The layer kind, as written in model files. */
  abstract readonly type: LayerConfig['type'];
  /** True in training mode (Dropout drops, layers keep what backward needs). */
  training = false;
  /** Runs the layer. In training mode it keeps what {@link Layer.backward} needs. */
  abstract forward(x: Tensor, opts?: ForwardOptions): Tensor;
  /**
   * Given d loss / d output of the last training-mode forward, writes the parameter gradients and returns
   * d loss / d input (null when `needInput` is false: the first layer's input gradient is never used).
   */
  abstract backward(dy: Tensor, needInput?: boolean): Tensor | null;
  /** Trainable parameters (empty for stateless layers). */
  parameters(): Parameter[] {
    return [];
  }
  /** The configuration written to model files. */
  abstract config(): LayerConfig;
  /** What the last training-mode forward kept for the backward `fn`; a RangeError naming `fn` if there was none. */
  protected kept<T>(fn: string, t: T | null | undefined): T {
    if (t === null || t === undefined) throw rangeError(fn, 'no training-mode forward to go back through');
    return t;
  }
  /** Switches training mode on or off (recursively for containers); returns this. */
  train(on = true): this {
    this.training = on;
    return this;
  }
  /** Inference mode (same as `train(false)`). */
  eval(): this {
    return this.train(false);
  }
  /** Number of parameter values (of the layer's weights in whatever format they are stored). */
  paramCount(): number {
    return this.parameters().reduce((s, p) => s + p.value.size, 0);
  }
}

function checkFeatures(fn: string, arg: string, v: unknown): number {
  return layerSize(fn, arg, v);
}

function lastDim(fn: string, x: Tensor, want: number, what: string): void {
  // Tensor or QuantizedTensor (both have shape and ndim); anything else is the caller's mistake, named here.
  if (x === null || typeof x !== 'object' || !Array.isArray(x.shape) || typeof x.ndim !== 'number') throw typeError(fn, `x must be a Tensor, got ${describe(x)}`);
  const got = x.ndim ? x.shape[x.ndim - 1] : 1;
  if (got !== want) throw rangeError(fn, `x.shape[${x.ndim - 1}] (${got}) must equal ${what} (${want})`);
}

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /**
   * 'he' (default): uniform ±√(6/in), for layers followed by ReLU/GELU. 'xavier': uniform ±√(6/(in+out)).
   * Biases start at zero.
   */
  init?: 'he' | 'xavier';
}

/** Shape [out, in] of any weight `linear` accepts, read without knowing its family. */
function weightShape(w: unknown): [number, number] | null {
  if (w instanceof PackedWeights) return [w.n, w.k];
  const o = w as { shape?: unknown; k?: unknown; n?: unknown };
  const s = o?.shape;
  if (Array.isArray(s) && s.length === 2 && s.every((d) => Number.isInteger(d))) return [s[0], s[1]];
  // Packed handles of other families describe the right operand B [K, N] = Wᵀ.
  if (Number.isInteger(o?.k) && Number.isInteger(o?.n)) return [o.n as number, o.k as number];
  return null;
}

/** Storage format of an inference weight: 'float32', 'packed', 'float16', 'bfloat16', 'int8', 'sparse' or the family's name. */
export function weightFormat(w: unknown): string {
  if (w instanceof PackedWeights) return 'packed';
  if (w instanceof Tensor) return w.dtype;
  const o = w as { format?: unknown; dtype?: unknown; constructor?: { name?: string } };
  const name = o?.constructor?.name ?? '';
  if (/sparse/i.test(name)) return o.dtype === 'int8' ? 'sparse-int8' : 'sparse';
  if (/quantiz/i.test(name)) return typeof o.dtype === 'string' ? o.dtype : 'int8';
  if (typeof o?.format === 'string') return o.format;
  if (typeof o?.dtype === 'string' && /packed/i.test(name)) return `packed-${o.dtype}`;
  return name || 'unknown';
}

/** Bytes an inference weight holds in its storage format. */
export function weightBytes(w: unknown): number {
  if (w instanceof Tensor) return w.byteLength;
  const o = w as { bytes?: unknown; byteLength?: unknown; data?: unknown; scale?: unknown; zeroPoint?: unknown };
  // Quantized tensors: the integer values plus their scales and zero points.
  if (o?.data instanceof Tensor && ArrayBuffer.isView(o.scale))
    return o.data.byteLength + o.scale.byteLength + (ArrayBuffer.isView(o.zeroPoint) ? o.zeroPoint.byteLength : 0);
  if (typeof o?.bytes === 'number') return o.bytes;
  if (typeof o?.byteLength === 'number') return o.byteLength;
  return NaN;
}

/**
 * y = x·Wᵀ + b with W [out, in] (PyTorch layout). Training uses the float32 master weight; inference uses
 * {@link Linear.kernelWeight} when one is set (packed f32, int8, f16/bf16 or sparse — whatever `linear` accepts),
 * else the master.
 */
export class Linear extends Layer {
  readonly type = 'linear' as const;
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** The float32 master weight [out, in] (null for a model loaded from a compressed file: inference only). */
  readonly weight: Parameter | null;
  /** The bias [out], or null. */
  readonly bias: Parameter | null;
  private kernel: unknown = null;
  private source: unknown = null;
  private kernelVersion = -1;
  /**
   * Static quantization of this layer's input (set by `quantizeModel` from calibration data): float32 inputs are
   * quantized with these fixed parameters, and a preceding int8 layer hands its output over already requantized.
   */
  inputQuant: InputQuant | null = null;
  private x: Tensor<'float32'> | null = null;
  private y: Tensor<'float32'> | null = null;
  private act: Activation = 'none';
  private readonly scratch = new Scratch();
  private ones: Tensor<'float32'> | null = null;

  /**
   * A Linear with fresh weights (see {@link LinearOptions}). `given` is internal: {@link Linear.from} passes
   * existing weights through it.
   */
  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}, given?: { weight: unknown; bias: Tensor | null }) {
    super();
    const fn = given ? 'Linear.from' : 'Linear';
    this.inFeatures = checkFeatures(fn, 'inFeatures', inFeatures);
    this.outFeatures = checkFeatures(fn, 'outFeatures', outFeatures);
    if (inFeatures * outFeatures > MAX_ELEMENTS)
      throw rangeError(fn, `the weight [${outFeatures}, ${inFeatures}] has ${inFeatures * outFeatures} elements, more than ${MAX_ELEMENTS} (MAX_ELEMENTS)`);
    if (given) {
      const w = given.weight;
      if (w instanceof Tensor && w.dtype === 'float32') {
        checkTensor(fn, 'weight', w);
        this.weight = new Parameter('weight', w as Tensor<'float32'>, true);
      } else {
        this.weight = null;
        this.kernel = w;
        this.kernelVersion = 0;
      }
      if (given.bias === null || given.bias === undefined) this.bias = null;
      else {
        const bt = f32(fn, 'bias', given.bias);
        if (bt.size !== outFeatures) throw rangeError(fn, `bias has ${bt.size} elements, needs ${outFeatures} (weight [${outFeatures}, ${inFeatures}])`);
        this.bias = new Parameter('bias', bt, false);
      }
      return;
    }
    opts = checkOpts<LinearOptions>(fn, opts);
    if (opts.bias !== undefined && typeof opts.bias !== 'boolean') throw typeError(fn, `opts.bias must be a boolean, got ${describe(opts.bias)}`);
    const init = opts.init ?? 'he';
    if (init !== 'he' && init !== 'xavier') throw typeError(fn, `init must be 'he' or 'xavier', got ${describe(init)}`);
    const bound = init === 'he' ? Math.sqrt(6 / inFeatures) : Math.sqrt(6 / (inFeatures + outFeatures));
    const w = rand([outFeatures, inFeatures], { seed: opts.seed ?? 0, low: -bound, high: bound }) as Tensor<'float32'>;
    this.weight = new Parameter('weight', w, true);
    this.bias = opts.bias ?? true ? new Parameter('bias', new Tensor(new Float32Array(outFeatures), [outFeatures], 'float32', outFeatures), false) : null;
  }

  /**
   * A Linear over given weights. `weight` is a float32 [out, in] tensor (trainable) or any inference weight
   * `linear` accepts (packed, int8, f16/bf16, sparse: inference only). `bias` is float32 [out] or null.
   */
  static from(weight: unknown, bias: Tensor | null = null): Linear {
    const shape = weightShape(weight);
    if (!shape) throw typeError('Linear.from', `weight must be a [out, in] tensor or a weight linear() accepts, got ${describe(weight)}`);
    return new Linear(shape[1], shape[0], {}, { weight, bias });
  }

  /** The weight inference runs on: the kernel weight if set and current, else the float32 master. */
  get kernelWeight(): unknown {
    if (this.kernel !== null && this.weight && this.kernelVersion !== this.weight.version) {
      if (this.kernel instanceof PackedWeights) this.pack();
      else
        throw rangeError('Linear', `the ${this.format} weight is stale: the float32 weight changed after it was made; compress the model again`);
    }
    return this.kernel ?? this.weight?.value;
  }

  /** Storage format inference uses ('float32' when no kernel weight is set). */
  get format(): string {
    return this.kernel === null ? 'float32' : weightFormat(this.source ?? this.kernel);
  }

  /**
   * The unpacked form of the kernel weight, for saving: e.g. the QuantizedTensor behind packed int8 weights
   * (null when the kernel weight is itself that form, or for packed f32, which is saved as the master).
   */
  get kernelSource(): unknown {
    return this.source;
  }

  /**
   * Sets the weight inference runs on (e.g. a QuantizedTensor or SparseTensor made from {@link Linear.weight}),
   * or clears it with null. Its shape must be [out, in].
   */
  setKernelWeight(w: unknown, source: unknown = null): this {
    if (w === null) {
      this.kernel = null;
      this.source = null;
      this.inputQuant = null;
      return this;
    }
    const shape = weightShape(w);
    if (!shape || shape[0] !== this.outFeatures || shape[1] !== this.inFeatures)
      throw rangeError('Linear.setKernelWeight', `weight must have shape [${this.outFeatures}, ${this.inFeatures}], got ${shape ? `[${shape.join(', ')}]` : describe(w)}`);
    this.kernel = w;
    this.source = source;
    this.kernelVersion = this.weight ? this.weight.version : 0;
    return this;
  }

  /** Packs the float32 weight once into the GEMM's panel layout for inference (kept until the weight changes). */
  pack(): this {
    if (!this.weight) throw rangeError('Linear.pack', 'this layer has no float32 weight to pack');
    this.kernel = packWeights(this.weight.value);
    this.source = null;
    this.inputQuant = null;
    this.kernelVersion = this.weight.version;
    return this;
  }

  override parameters(): Parameter[] {
    const p: Parameter[] = [];
    if (this.weight) p.push(this.weight);
    if (this.bias) p.push(this.bias);
    return p;
  }

  override paramCount(): number {
    return this.inFeatures * this.outFeatures + (this.bias ? this.outFeatures : 0);
  }

  /**
   * Bytes of the weight and bias in their storage formats, as a model file holds them (a packed weight counts as
   * its unpacked form: the panel layout is a runtime cache, rebuilt on load, and its padding is not model size).
   */
  bytes(): number {
    const w = this.kernelWeight;
    const wb = w instanceof PackedWeights ? 4 * this.inFeatures * this.outFeatures : weightBytes(this.source ?? w);
    return wb + (this.bias ? this.bias.value.byteLength : 0);
  }

  forward(x: Tensor, opts: ForwardOptions | null = {}): Tensor {
    opts = options('Linear.forward', opts);
    const fn = 'Linear.forward';
    lastDim(fn, x, this.inFeatures, 'inFeatures');
    const act = opts.activation ?? 'none';
    const bias = this.bias ? this.bias.value : null;
    const o = opts.out ? { out: opts.out } : {};
    if (!this.training) {
      const w = this.kernelWeight;
      const iq = this.inputQuant;
      if (!iq) return linear(x, w as Weights, bias, { activation: act, ...o }) as Tensor;
      // Static int8: quantize the input with the calibrated parameters unless it arrives quantized already, and
      // requantize the output when the next layer asks for it (an int8 chain between Linear layers).
      const xq = iq.quantize(x);
      const y = linear(xq as Tensor, w as Weights, bias, { activation: act, ...(opts.requant ? { output: opts.requant } : o) });
      return y as Tensor; // a QuantizedTensor when requant is set: the next int8 layer takes it as its input
    }
    if (!this.weight) throw rangeError(fn, `cannot train a ${this.format} layer loaded without its float32 weight`);
    if (act === 'gelu') throw rangeError(fn, 'a fused GELU cannot be trained (its backward needs the pre-activation); Sequential fuses only ReLU while training');
    this.x = f32(fn, 'x', x);
    this.act = act;
    const y = linear(x, this.weight.value, bias, { activation: act, ...o }) as Tensor<'float32'>;
    this.y = y;
    return y;
  }

  backward(dy: Tensor, needInput = true): Tensor | null {
    const fn = 'Linear.backward';
    const x = this.x;
    const y = this.y;
    if (!x || !y || !this.weight) throw rangeError(fn, 'no training-mode forward to go back through');
    const D = f32(fn, 'dy', dy);
    if (D.size !== y.size) throw rangeError(fn, `dy has shape [${D.shape.join(', ')}], the output was [${y.shape.join(', ')}]`);
    const [m] = rowsCols(y);
    const n = this.outFeatures;
    const k = this.inFeatures;
    // dZ = dY ⊙ relu'(z), from the fused relu's output.
    const dz = this.act === 'relu' ? reluBackward(y, D, this.scratch.get('dz', [m, n])) : D.reshape([m, n]);
    // dW = dZᵀ·X: the GEMM has no transposed-A form, so dZ is transposed once (O(m·n), small next to the GEMM).
    const dzT = transpose(dz, this.scratch.get('dzT', [n, m]));
    matmul(dzT, x.reshape([m, k]), { out: this.weight.grad });
    // db = column sums of dZ = ones[1×m]·dZ.
    if (this.bias) {
      if (!this.ones || this.ones.size !== m) this.ones = new Tensor(new Float32Array(m).fill(1), [1, m], 'float32', m);
      matmul(this.ones, dz, { out: this.bias.grad });
    }
    if (!needInput) return null;
    // dX = dZ·W (W is [out, in] = [n, k]).
    return matmul(dz, this.weight.value, { out: this.scratch.get('dx', [m, k]) }).reshape(x.shape);
  }

  config(): LayerConfig {
    const c: LayerConfig = { type: 'linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null, weightFormat: this.format };
    if (this.inputQuant) c.inputQuant = { dtype: this.inputQuant.dtype, scale: this.inputQuant.scale, zeroPoint: this.inputQuant.zeroPoint };
    return c;
  }
}

/** The parameterless activations: the configuration is the type alone. */
abstract class ActivationLayer extends Layer {
  abstract readonly type: 'relu' | 'gelu';
  config(): LayerConfig {
    return { type: this.type };
  }
}

/** max(x, 0). Fused into a preceding Linear's epilogue by {@link Sequential}. */
export class ReLU extends ActivationLayer {
  readonly type = 'relu' as const;
  private y: Tensor<'float32'> | null = null;
  forward(x: Tensor, opts: ForwardOptions | null = {}): Tensor {
    opts = options('ReLU.forward', opts);
    const y = relu(x, opts.out ? { out: opts.out } : {}) as Tensor<'float32'>;
    if (this.training) this.y = y;
    return y;
  }
  backward(dy: Tensor, needInput = true): Tensor | null {
    const y = this.kept('ReLU.backward', this.y);
    return needInput ? reluBackward(y, dy) : null;
  }
}

/** GELU (erf form). Fused into a preceding Linear's epilogue by {@link Sequential} at inference. */
export class GELU extends ActivationLayer {
  readonly type = 'gelu' as const;
  private x: Tensor<'float32'> | null = null;
  forward(x: Tensor, opts: ForwardOptions | null = {}): Tensor {
    opts = options('GELU.forward', opts);
    if (this.training) this.x = f32('GELU.forward', 'x', x);
    return gelu(x, opts.out ? { out: opts.out } : {});
  }
  backward(dy: Tensor, needInput = true): Tensor | null {
    const x = this.kept('GELU.backward', this.x);
    return needInput ? geluBackward(x, dy) : null;
  }
}

/** Layer normalisation over the last dimension with learned gamma (ones) and beta (zeros). */
export class LayerNorm extends Layer {
  readonly type = 'layernorm' as const;
  /** Normalised features (the last dimension). */
  readonly features: number;
  /** Added to the variance. */
  readonly eps: number;
  /** Scale, [features]. */
  readonly gamma: Parameter;
  /** Shift, [features]. */
  readonly beta: Parameter;
  private x: Tensor<'float32'> | null = null;

  constructor(features: number, opts: { eps?: number } | null = {}) {
    opts = options('LayerNorm', opts);
    super();
    const fn = 'LayerNorm';
    this.features = checkFeatures(fn, 'features', features);
    const eps = checkOpts<{ eps?: number }>(fn, opts).eps ?? 1e-5;
    if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw rangeError(fn, `eps must be a finite number >= 0, got ${describe(eps)}`);
    this.eps = eps;
    this.gamma = new Parameter('gamma', new Tensor(new Float32Array(features).fill(1), [features], 'float32', features), false);
    this.beta = new Parameter('beta', new Tensor(new Float32Array(features), [features], 'float32', features), false);
  }
  forward(x: Tensor, opts: ForwardOptions | null = {}): Tensor {
    opts = options('LayerNorm.forward', opts);
    lastDim('LayerNorm.forward', x, this.features, 'features');
    if (this.training) this.x = f32('LayerNorm.forward', 'x', x);
    return layerNorm(x, this.gamma.value, this.beta.value, { eps: this.eps, ...(opts.out ? { out: opts.out } : {}) });
  }
  backward(dy: Tensor, needInput = true): Tensor | null {
    const fn = 'LayerNorm.backward';
    const x = this.kept(fn, this.x);
    const D = f32(fn, 'dy', dy);
    if (D.size !== x.size) throw rangeError(fn, `dy has shape [${D.shape.join(', ')}], the input was [${x.shape.join(', ')}]`);
    const [rows, cols] = rowsCols(x);
    const dx = new Tensor(new Float32Array(x.size), x.shape, 'float32', x.size);
    train.layerNormBackward(x.data, this.gamma.value.data, D.data, this.eps, dx.data, this.gamma.grad.data, this.beta.grad.data, rows, cols);
    return needInput ? dx : null;
  }
  override parameters(): Parameter[] {
    return [this.gamma, this.beta];
  }
  config(): LayerConfig {
    return { type: 'layernorm', features: this.features, eps: this.eps };
  }
}

/** Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1−p). */
export class Dropout extends Layer {
  readonly type = 'dropout' as const;
  /** Drop probability in [0, 1). */
  readonly p: number;
  private seed: number;
  private calls = 0;
  private mask: Tensor<'float32'> | null = null;
  constructor(p: number, opts: { seed?: number } | null = {}) {
    opts = options('Dropout', opts);
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw rangeError('Dropout', `p must be a number in [0, 1), got ${describe(p)}`);
    this.p = p;
    this.seed = nonNegativeInt('Dropout', 'opts.seed', checkOpts<{ seed?: number }>('Dropout', opts).seed, 0) >>> 0;
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const X = f32('Dropout.forward', 'x', x);
    const mask = new Tensor(new Float32Array(X.size), X.shape, 'float32', X.size);
    const out = new Tensor(new Float32Array(X.size), X.shape, 'float32', X.size);
    // A fresh stream per call: the call counter is the high half of the 64-bit seed.
    train.dropout(X.data, X.size, this.p, this.seed, this.calls++ >>> 0, mask.data, out.data);
    this.mask = mask;
    return out;
  }
  backward(dy: Tensor, needInput = true): Tensor | null {
    if (!needInput) return null;
    if (this.p === 0) return dy;
    return mul(dy, this.kept('Dropout.backward', this.mask));
  }
  config(): LayerConfig {
    return { type: 'dropout', p: this.p };
  }
}

/** Fixed input standardisation (x − mean)/std per feature, fitted on training data; not trained. */
export class Normalize extends Layer {
  readonly type = 'normalize' as const;
  /** Per-feature mean, [features]. */
  readonly mean: Tensor<'float32'>;
  /** Per-feature 1/std, [features]. */
  readonly invStd: Tensor<'float32'>;
  private readonly scratch = new Scratch();
  constructor(mean: Tensor, invStd: Tensor) {
    super();
    const fn = 'Normalize';
    this.mean = f32(fn, 'mean', mean);
    this.invStd = f32(fn, 'invStd', invStd);
    if (this.mean.ndim !== 1 || this.invStd.size !== this.mean.size)
      throw rangeError(fn, `mean and invStd must be 1-D of the same length, got [${this.mean.shape.join(', ')}] and [${this.invStd.shape.join(', ')}]`);
  }
  /** Features standardised (the last dimension). */
  get features(): number {
    return this.mean.size;
  }
  forward(x: Tensor, opts: ForwardOptions | null = {}): Tensor {
    opts = options('Normalize.forward', opts);
    lastDim('Normalize.forward', x, this.features, 'features');
    const centred = sub(x, this.mean, opts.out ? { out: opts.out } : {});
    return mul(centred, this.invStd, { out: centred });
  }
  backward(dy: Tensor, needInput = true): Tensor | null {
    return needInput ? mul(dy, this.invStd, { out: this.scratch.get('dx', dy.shape) }) : null;
  }
  config(): LayerConfig {
    return { type: 'normalize', features: this.features };
  }
}

/**
 * Layers run in order. A Linear followed by a ReLU runs as one GEMM with the ReLU fused into its epilogue (in
 * training too: ReLU's backward needs only the output); a Linear followed by a GELU is fused at inference only.
 * Intermediate activations live in per-model scratch buffers; the final output is a fresh tensor.
 */
export class Sequential extends Layer {
  readonly type = 'sequential' as const;
  /** The layers, in order. */
  readonly layers: readonly Layer[];
  private steps: { layer: Layer; act: Activation }[] = [];
  private readonly scratch = new Scratch();

  constructor(layers: Layer[]) {
    super();
    if (!Array.isArray(layers) || layers.length === 0) throw typeError('Sequential', `layers must be a non-empty array of Layers, got ${describe(layers)}`);
    layers.forEach((l, i) => {
      if (!(l instanceof Layer)) throw typeError('Sequential', `layers[${i}] must be a Layer, got ${describe(l)}`);
    });
    this.layers = Object.freeze(layers.slice());
  }

  override train(on = true): this {
    this.training = on;
    for (const l of this.layers) l.train(on);
    return this;
  }

  private plan(): { layer: Layer; act: Activation }[] {
    const steps: { layer: Layer; act: Activation }[] = [];
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i];
      const next = this.layers[i + 1];
      if (l instanceof Linear && (next instanceof ReLU || (next instanceof GELU && !this.training))) {
        steps.push({ layer: l, act: next instanceof ReLU ? 'relu' : 'gelu' });
        i++;
      } else {
        steps.push({ layer: l, act: 'none' });
      }
    }
    return steps;
  }

  forward(x: Tensor): Tensor {
    checkTensor('Sequential.forward', 'x', x);
    this.steps = this.plan();
    let h = x;
    const last = this.steps.length - 1;
    for (let i = 0; i <= last; i++) {
      const { layer, act } = this.steps[i];
      const opts: ForwardOptions = act === 'none' ? {} : { activation: act };
      const next = this.steps[i + 1]?.layer;
      if (!this.training && layer instanceof Linear && layer.inputQuant && next instanceof Linear && next.inputQuant) {
        const q = next.inputQuant;
        opts.requant = { dtype: q.dtype, scale: q.scale, zeroPoint: q.zeroPoint };
      } else if (i < last && layer instanceof Linear) {
        // Intermediates go to scratch (a Dropout or identity step returns its own tensor); the output is fresh.
        opts.out = this.scratch.get(`a${i}`, [...h.shape.slice(0, -1), layer.outFeatures]);
      }
      h = layer.forward(h, opts);
    }
    return h;
  }

  backward(dy: Tensor, needInput = true): Tensor | null {
    let g: Tensor | null = dy;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      g = this.steps[i].layer.backward(g as Tensor, i > 0 || needInput);
      if (i > 0 && !g) throw rangeError('Sequential.backward', `layer ${i} returned no input gradient`);
    }
    return g;
  }

  override parameters(): Parameter[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  override paramCount(): number {
    return this.layers.reduce((s, l) => s + l.paramCount(), 0);
  }

  /** The Linear layers, in order. */
  linears(): Linear[] {
    return this.layers.filter((l): l is Linear => l instanceof Linear);
  }

  /** Bytes of all weights as inference stores them (kernel weights in their formats, other parameters f32). */
  bytes(): number {
    let b = 0;
    for (const l of this.layers) {
      if (l instanceof Linear) b += l.bytes();
      else if (l instanceof Normalize) b += l.mean.byteLength + l.invStd.byteLength;
      else for (const p of l.parameters()) b += p.value.byteLength;
    }
    return b;
  }

  /**
   * Stores every Linear weight in float16 or bfloat16 for inference (round to nearest even; the float32 master
   * stays for training). `linear` then runs the half-precision GEMM: float32 activations, half weights.
   */
  toHalf(dtype: 'float16' | 'bfloat16'): this {
    if (dtype !== 'float16' && dtype !== 'bfloat16') throw typeError('Sequential.toHalf', `dtype must be 'float16' or 'bfloat16', got ${describe(dtype)}`);
    for (const l of this.linears()) {
      if (!l.weight) throw rangeError('Sequential.toHalf', `a Linear layer has no float32 weight (it is ${l.format})`);
      l.setKernelWeight(l.weight.value.to(dtype));
    }
    return this;
  }

  /** Packs every float32 Linear weight for inference (see {@link Linear.pack}); returns this. */
  pack(): this {
    for (const l of this.linears()) if (l.weight && l.format === 'float32') l.pack();
    return this;
  }

  config(): LayerConfig {
    return { type: 'sequential', layers: this.layers.map((l) => l.config()) };
  }

  /** One line per layer: type, shape, parameters and format. */
  summary(): string {
    return this.layers
      .map((l, i) => {
        if (l instanceof Linear) return `${i}: Linear(${l.inFeatures} → ${l.outFeatures}${l.bias ? '' : ', no bias'}) ${l.format} ${l.paramCount()} params`;
        if (l instanceof LayerNorm) return `${i}: LayerNorm(${l.features})`;
        if (l instanceof Dropout) return `${i}: Dropout(${l.p})`;
        if (l instanceof Normalize) return `${i}: Normalize(${l.features})`;
        return `${i}: ${l.type.toUpperCase()}`;
      })
      .join('\n');
  }
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Activation between layers (default 'relu'). */
  activation?: 'relu' | 'gelu';
  /** Dropout probability after each hidden activation (default 0: none). */
  dropout?: number;
  /** LayerNorm after each hidden Linear, before the activation (default false). */
  layerNorm?: boolean;
  /** Seed of the initialisation (layer i uses seed + i). */
  seed?: number;
  /** A Normalize layer first (per-feature mean and 1/std). */
  normalize?: { mean: Tensor; invStd: Tensor };
}

/** A multi-layer perceptron: sizes [in, hidden..., out] → Sequential of Linear + activation (+ LayerNorm, Dropout). */
export function mlp(sizes: number[], opts: MlpOptions | null = {}): Sequential {
  opts = options('mlp', opts);
  const fn = 'mlp';
  if (!Array.isArray(sizes) || sizes.length < 2) throw rangeError(fn, `sizes must list at least [in, out], got ${describe(sizes)}`);
  sizes.forEach((s, i) => checkFeatures(fn, `sizes[${i}]`, s));
  opts = checkOpts<MlpOptions>(fn, opts);
  const act = opts.activation ?? 'relu';
  if (act !== 'relu' && act !== 'gelu') throw typeError(fn, `activation must be 'relu' or 'gelu', got ${describe(act)}`);
  const seed = nonNegativeInt(fn, 'opts.seed', opts.seed, 0);
  const layers: Layer[] = [];
  if (opts.normalize) layers.push(new Normalize(opts.normalize.mean, opts.normalize.invStd));
  for (let i = 0; i + 1 < sizes.length; i++) {
    const hidden = i + 2 < sizes.length;
    layers.push(new Linear(sizes[i], sizes[i + 1], { seed: seed * 1000 + i, init: hidden ? 'he' : 'xavier' }));
    if (!hidden) break;
    if (opts.layerNorm) layers.push(new LayerNorm(sizes[i + 1]));
    layers.push(act === 'relu' ? new ReLU() : new GELU());
    if (opts.dropout) layers.push(new Dropout(opts.dropout, { seed: seed * 1000 + i }));
  }
  return new Sequential(layers);
}
