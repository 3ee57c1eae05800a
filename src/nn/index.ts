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
export type { Dataset, Batch, BatchLoss, EpochInfo, FitOptions, History } from './train.js';
export { distill } from './distill.js';
export type { DistillOptions, DistillResult } from './distill.js';
export { measureLatency, measureLatencies } from './latency.js';
export type { Latency, LatencyOptions } from './latency.js';
export { GradualPruner, modelSparsity, sparsifyModel } from './prune.js';
export type { GradualPruneOptions } from './prune.js';
export { saveModel, loadModel, serializeModel, deserializeModel, registerWeightCodec, MODEL_FORMAT, MODEL_VERSION } from './serialize.js';
export type { SaveOptions, LoadedModel, WeightCodec } from './serialize.js';
export { loadDigits, loadCsv, parseCsv, stratifiedSplit, subset, featureStats, packageRoot } from './data.js';
export type { LabeledData, CsvOptions } from './data.js';
export { optimize, checkTargets, formatMarkdown, stageTable } from './optimize.js';
export type { OptimizeOptions, OptimizeReport, StageReport, SeedReport, TargetCheck, ProgressEvent, Stage } from './optimize.js';
export { quantizeModel, inputQuant } from './quantize.js';
export type { QuantizeModelOptions } from './quantize.js';
export { ForwardArena, ArenaPool, denseChainAsync } from './arena.js';
export type { DenseStep } from './arena.js';
