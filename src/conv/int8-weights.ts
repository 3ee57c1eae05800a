/**
 * The int8 convolution's public types: packed int8 conv weights and the int8 conv2d options, apart from the code in
 * ./conv2d-int8.ts so conv2d's overloads can name them without an import cycle.
 * @module
 */
import type { NativePackedS8 } from '../native.js';
import { NativeConvWeights, type ConvWeightDims } from '../weights.js';
import type { QuantDType } from '../int8/index.js';
import type { Conv2dOptions } from './options.js';

/** int8 conv weights packed once into the int8 GEMM's panels, with per-output-channel scales and zero points. */
export class PackedInt8ConvWeights extends NativeConvWeights<NativePackedS8> {
  /** Storage type of the weights. */
  readonly dtype: QuantDType;
  /** Always 1 for int8 convolutions. */
  declare readonly groups: 1;
  /** Scale per output channel (length 1 when per tensor). */
  readonly scale: Float32Array;
  /** @internal */
  constructor(handle: NativePackedS8, dtype: QuantDType, dims: Omit<ConvWeightDims, 'groups'>, scale: Float32Array) {
    super('PackedInt8ConvWeights', 'packConvWeights(quantizedWeights)', handle, { ...dims, groups: 1 });
    this.dtype = dtype;
    this.scale = scale;
  }
}

/** Output of an int8 convolution: float32 (default), the exact int32 sums, or requantized int8/uint8. */
export type Int8ConvOutput = 'float32' | 'int32' | { dtype: QuantDType; scale: number; zeroPoint?: number };

/** {@link Conv2dOptions} for a quantized input, plus the output kind. */
export interface Int8Conv2dOptions extends Conv2dOptions {
  /** Output kind (default 'float32'). */
  output?: Int8ConvOutput;
  /**
   * Per-pixel activation parameters that replace x's per-tensor scale and zero point: one value per input pixel
   * (n·h·w, in n, h, w order whatever the layout), as `quantizeDynamic`-style per-row quantization of an NHWC input
   * gives them. Pointwise convs only (1×1, stride 1, no padding): each GEMM row is then one input pixel.
   */
  pixelParams?: { scale: Float32Array; zeroPoint: Int32Array };
}
