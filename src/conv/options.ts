/**
 * The option and layout types of the convolution ops (conv2d, convTranspose2d, packConvWeights), in a module of
 * their own so the f32 and int8 conv modules share them without importing each other.
 * @module
 */
import type { Tensor } from '../tensor.js';
import type { AsyncOptions } from '../ops/registry.js';
import type { ConvActivation as SharedConvActivation } from './activation.js';

/** Activation layout of x and the output: channels first (ONNX, PyTorch) or last (TF, TF.js). */
export type ConvLayout = 'nchw' | 'nhwc';

/**
 * Weight layouts. Convolution: 'oihw' = [M, C/groups, kH, kW] (ONNX Conv, PyTorch), 'hwio' = [kH, kW, C/groups, M]
 * (TF.js conv2d). Transposed convolution: 'iohw' = [C, M/groups, kH, kW] (ONNX ConvTranspose, PyTorch),
 * 'hwoi' = [kH, kW, M/groups, C] (TF.js conv2dTranspose with groups = 1: [kH, kW, M, C]).
 */
export type ConvWeightLayout = 'oihw' | 'hwio' | 'iohw' | 'hwoi';

/**
 * Fused activation of the conv epilogue: any {@link SharedConvActivation} of the family (names, or objects with
 * their parameters: `{ clip: { min, max } }`, `{ leakyRelu: { alpha } }`, `{ hardSigmoid: { alpha, beta } }`), or
 * the flat form 'clip' with `clipMin`/`clipMax`, and 'leakyRelu'/'hardSigmoid' with `alpha`/`beta` options.
 */
export type Conv2dActivation = SharedConvActivation | 'clip';

/** Padding: [top, left, bottom, right] (ONNX order), one number for all sides, or an automatic mode. */
export type ConvPads = readonly [number, number, number, number] | number | 'valid' | 'same' | 'same_upper' | 'same_lower';

/** Batch-norm statistics folded into the weights and bias at pack time: y = gamma·(x − mean)/√(var + ε) + beta. */
export interface BatchNormParams {
  /** Scale γ (M). */
  gamma: Tensor;
  /** Shift β (M). */
  beta: Tensor;
  /** Running mean μ (M). */
  mean: Tensor;
  /** Running variance σ² (M). */
  variance: Tensor;
  /** Default 1e-5. */
  epsilon?: number;
}

/** Options of {@link packConvWeights}. */
export interface ConvPackOptions {
  /** Weight layout (default 'oihw', or 'iohw' with `transposed`). */
  weightLayout?: ConvWeightLayout;
  /** Group count (default 1). */
  groups?: number;
  /** Pack for {@link convTranspose2d} (weights 'iohw' / 'hwoi'). */
  transposed?: boolean;
  /** Bias of length M, stored with the packed weights. */
  bias?: Tensor | null;
  /** Batch norm folded into the weights and bias. */
  batchNorm?: BatchNormParams;
}

/** Options of {@link conv2d} and {@link convTranspose2d}. */
export interface Conv2dOptions {
  /** Layout of x and the output (default 'nchw'). */
  layout?: ConvLayout;
  /** Weight layout of a raw weight tensor (default: 'oihw' for nchw, 'hwio' for nhwc; 'iohw' / 'hwoi' transposed). */
  weightLayout?: ConvWeightLayout;
  /** [sH, sW] or one number (default 1). */
  strides?: number | readonly [number, number];
  /** Default 'valid' (no padding). */
  pads?: ConvPads;
  /** [dH, dW] or one number (default 1). */
  dilations?: number | readonly [number, number];
  /** Group count (default 1, or the packed weights' count). */
  groups?: number;
  /** Bias of length M (not with packed weights that hold one). */
  bias?: Tensor | null;
  /** Fused activation after the bias and the residual. */
  activation?: Conv2dActivation;
  /** Lower bound of 'clip' (default −Infinity). */
  clipMin?: number;
  /** Upper bound of 'clip' (default Infinity). */
  clipMax?: number;
  /** Slope of 'leakyRelu' (default 0.01), or alpha of 'hardSigmoid' (default 0.2). */
  alpha?: number;
  /** beta of 'hardSigmoid' (default 0.5). */
  beta?: number;
  /** A tensor shaped like the output, added before the activation (a residual connection). */
  residual?: Tensor | null;
  /** Preallocated float32 output. */
  out?: Tensor;
}

/** Options of {@link convTranspose2d}: those of conv2d plus ONNX's output_padding. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns at the bottom/right of the output: [opH, opW] or one number (default 0), each < stride or dilation. */
  outputPadding?: number | readonly [number, number];
}

/** {@link Conv2dOptions} plus {@link AsyncOptions}. */
export type Conv2dAsyncOptions = Conv2dOptions & AsyncOptions;
/** {@link ConvTranspose2dOptions} plus {@link AsyncOptions}. */
export type ConvTranspose2dAsyncOptions = ConvTranspose2dOptions & AsyncOptions;
