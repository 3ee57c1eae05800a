/**
 * Models, training, distillation, compression and the `optimize` pipeline (re-exported by the package barrel).
 * @module
 */
export { Parameter, Layer, Linear, ReLU, GELU, LayerNorm, Dropout, Normalize, Sequential, mlp, weightFormat, weightBytes } from './layers.js';
export type { LayerConfig, ForwardOptions, LinearOptions, MlpOptions } from './layers.js';
export { reluBackward, geluBackward, transpose, argmax } from './kernels.js';
export { crossEntropy, distillationLoss, softTargets } from './loss.js';
export type { LossResult, CrossEntropyOptions, DistillLossOptions, DistillLossResult } from './loss.js';
export { Optimizer, SGD, AdamW, makeOptimizer, schedules } from './optim.js';
export type { SgdOptions, AdamWOptions, OptimizerSpec, Schedule, ScheduleOptions } from './optim.js';
export { fit, predict, evaluate, accuracy, permutation, rng, gatherRows } from './train.js';
export type { Dataset, Batch, EpochInfo, FitOptions, History } from './train.js';
