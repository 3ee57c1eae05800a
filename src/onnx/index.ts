/**
 * Running ONNX models on simdtensor's kernels (docs/onnx.md).
 * @module
 */
export { loadOnnx, OnnxModel, MAX_OPSET } from './model.js';
export type { LoadOnnxOptions, OnnxIO, OnnxFeed, OnnxOutputs, OptimizationReport, OnnxProfile } from './model.js';
export { registerOnnxOp, getOnnxOp, registeredOnnxOps } from './ops/registry.js';
export type { OpDef, OpContext } from './ops/registry.js';
export type { Node as OnnxNode, AttrValue as OnnxAttrValue } from './graph.js';
export type { Value as OnnxValue, ODType as OnnxDType } from './value.js';
export type { OpTiming } from './plan.js';
export { saveOnnx, toOnnxBytes } from './export.js';
export { calibrateOnnx as calibrate } from './transform/quantize.js';
export type { OnnxQuantizeOptions, OnnxCalibration, OnnxCalibrateOptions, TensorCalibration } from './transform/quantize.js';
export { pruneOnnx as pruneModel } from './transform/prune.js';
export type { OnnxPruneOptions, PrunedLayer } from './transform/prune.js';
export { convertOnnx as convertModel } from './transform/convert.js';
export type { OnnxConvertOptions } from './transform/convert.js';
export { onnxToSequential, sequentialToOnnx, sequentialToOnnxModel } from './transform/to-nn.js';
export type { OnnxToSequentialOptions, SequentialToOnnxOptions } from './transform/to-nn.js';
export { distillOnnx, teacherLogits, agreement as topOneAgreement } from './transform/distill.js';
export type { DistillOnnxOptions, DistillOnnxResult, DistillData, StudentSpec, TeacherLogitsOptions } from './transform/distill.js';
