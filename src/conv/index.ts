/**
 * The convolution family: GEMM-based conv2d / convTranspose2d with packed weights and fused epilogues
 * (./conv2d.ts). Depthwise kernels, pooling and resize live beside it in their own modules.
 * @module
 */
export { conv2d, conv2dAsync, convTranspose2d, convTranspose2dAsync, packConvWeights, foldBatchNorm, PackedConvWeights } from './conv2d.js';
export type {
  ConvLayout,
  ConvWeightLayout,
  ConvActivation,
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
