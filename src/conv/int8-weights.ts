/**
 * The int8 convolution's public types: packed int8 conv weights and the int8 conv2d options, apart from the code in
 * ./conv2d-int8.ts so conv2d's overloads can name them without an import cycle.
 * @module
 */
import { checkHandle } from '../errors.js';
import type { NativePackedS8 } from '../native.js';
import type { QuantDType } from '../int8/index.js';
import type { Conv2dOptions } from './options.js';

/** int8 conv weights packed once into the int8 GEMM's panels, with per-output-channel scales and zero points. */
export class PackedInt8ConvWeights {
  /** Storage type of the weights. */
  readonly dtype: QuantDType;
  /** @internal */
  readonly handle: NativePackedS8;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Kernel height. */
  readonly kernelH: number;
  /** Kernel width. */
  readonly kernelW: number;
  /** Always 1 for int8 convolutions. */
  readonly groups = 1;
  /** Scale per output channel (length 1 when per tensor). */
  readonly scale: Float32Array;
  /** Bias stored at pack time, or null. */
  readonly bias: Float32Array | null;
  /** @internal */
  constructor(handle: NativePackedS8, dtype: QuantDType, c: number, m: number, kh: number, kw: number, scale: Float32Array, bias: Float32Array | null) {
    checkHandle('PackedInt8ConvWeights', 'packConvWeights(quantizedWeights)', handle, []);
    this.handle = handle;
    this.dtype = dtype;
    this.inChannels = c;
    this.outChannels = m;
    this.kernelH = kh;
    this.kernelW = kw;
    this.scale = scale;
    this.bias = bias;
  }
  /** Bytes held by the packed panels and per-channel data. */
  get bytes(): number {
    return this.handle.bytes;
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
