/**
 * The convolution family: GEMM-based conv2d / convTranspose2d with packed weights and fused epilogues (./conv2d.ts),
 * int8 conv (./conv2d-int8.ts), depthwise conv, pooling and resize (their own modules). One export line per file.
 * @module
 */
export type { ConvActivation } from './activation.js';
export type { ImageLayout, Pads } from './window.js';
export { depthwiseConv2d, depthwiseConv2dAsync } from './depthwise.js';
export type { DepthwiseConv2dOptions } from './depthwise.js';
export { maxPool2d, avgPool2d, globalAvgPool, globalMaxPool, maxPool2dAsync, avgPool2dAsync, globalAvgPoolAsync, globalMaxPoolAsync } from './pool.js';
export type { Pool2dOptions, GlobalPoolOptions } from './pool.js';
export { resize, resizeAsync } from './resize.js';
export { nchwToNhwc, nhwcToNchw, nchwToNhwcAsync, nhwcToNchwAsync } from './layout.js';
export type { LayoutOptions } from './layout.js';
export type { ResizeOptions, CoordinateTransformationMode, NearestMode } from './resize.js';
export { conv2d, conv2dAsync, convTranspose2d, convTranspose2dAsync, packConvWeights, foldBatchNorm, PackedConvWeights } from './conv2d.js';
export type {
  ConvLayout,
  Conv2dActivation,
  ConvWeightLayout,
  ConvPads,
  BatchNormParams,
  ConvPackOptions,
  Conv2dOptions,
  ConvTranspose2dOptions,
  Conv2dAsyncOptions,
  ConvTranspose2dAsyncOptions,
} from './conv2d.js';
export { PackedInt8ConvWeights } from './conv2d-int8.js';
export type { Int8ConvOutput, Int8Conv2dOptions } from './conv2d-int8.js';
