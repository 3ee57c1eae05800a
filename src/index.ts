/**
 * simdtensor: SIMD tensor kernels for Node.js. This barrel re-exports the public API.
 * @module
 */
export type { DType, TensorData } from './dtype.js';
export { dtypeBytes } from './dtype.js';
export { Tensor, tensor, zeros, empty, rand, MAX_ELEMENTS } from './tensor.js';
export type { RandOptions } from './tensor.js';
export { typeError, rangeError } from './errors.js';
export { bufferPoolStats, setBufferPoolLimit, trimBufferPool, POOL_MIN_BYTES } from './alloc.js';
export { scope, keep } from './scope.js';
export type { BufferPoolStats } from './alloc.js';
export { cpuInfo, setMaxIsa, getMaxIsa, kernelForM } from './cpu.js';
export type { CpuInfo, Isa } from './cpu.js';
export { matmul, linear, packWeights, PackedWeights } from './ops/matmul.js';
export type { PackOptions, Weights, AnyGemmOptions } from './ops/matmul.js';
export type { Activation, GemmOptions, MatmulImpl, LinearImpl, PackImpl } from './ops/registry.js';
export { registerMatmul, registerLinear, registerPack, registerCast } from './ops/registry.js';
export { add, sub, mul, relu, gelu, softmax, logSoftmax, layerNorm } from './f32/eltwise.js';
export type { OutOptions, LayerNormOptions } from './f32/eltwise.js';
// Serving: dynamic batching, caching, monitoring (docs/serving.md).
export { BatchScheduler, SchedulerError } from './scheduler/index.js';
export type { BatchSchedulerOptions, SubmitOptions, CloseOptions, RunBatch, SchedulerErrorCode } from './scheduler/index.js';
export { getPacked, releasePacked, setAutoPack, packedCacheStats, memoize } from './cache/index.js';
export type { MemoizeOptions, Memoized } from './cache/index.js';
export { setMonitoring, monitoringEnabled, stats, resetStats, prometheus, trace, startTrace, LatencyHistogram } from './monitor/index.js';
export type { OpStats, TraceEvent, MonitorStats, PrometheusOptions, TraceDocument, TraceOptions, TraceHandle, LatencySummary, SchedulerStats, CacheStats } from './monitor/index.js';
// Parallel executor: thread count, async ops on our own threads, inter-op Executor (docs/parallel.md).
export { setNumThreads, getNumThreads, defaultNumThreads, executorStats, matmulAsync, linearAsync, registerAsyncMatmul, registerAsyncLinear, runNativeAsync, Executor } from './executor/index.js';
export type { ExecutorStats, AsyncOptions, AsyncGemmOptions, AsyncMatmulImpl, AsyncLinearImpl, ExecutorOptions, RunOptions, Job } from './executor/index.js';
// Kernel families register themselves on import (one line each):
export { cast, packHalfWeights, PackedHalfWeights, hasFloat16Array, toFloat16Array, probeHalfPeak, lastHalfKernel } from './half/index.js'; export type { HalfDType, HalfPackOptions, HalfGemmOptions } from './half/index.js';
export { quantize, dequantize, quantizeDynamic, QuantizedTensor, Calibrator, PackedInt8Weights, packInt8Weights, compareOutputs, probeVnniPeak, probeAmxInt8Peak } from './int8/index.js'; export type { QuantDType, QuantScheme, CalibrationMethod, CalibratorOptions, QuantizeOptions, Int8PackOptions, Int8GemmOptions, OutputComparison } from './int8/index.js';
export { SparseTensor, toSparse, sparseCsr, sparseBsr, sparseNm, lastSparseKernel } from './sparse/index.js'; export type { SparseFormat, ToSparseOptions, SparseKernelMode, SparseLinearOptions, CsrInit, BsrInit, NmInit } from './sparse/index.js';
export { prune, cubicSparsity, gradualPruning } from './sparse/index.js'; export type { PrunePattern, PruneCriterion, PruneOptions, PruneResult, GradualPruningOptions, GradualPruning } from './sparse/index.js';
// Convolution (docs/conv.md).
export * from './conv/index.js';
// Models, training, distillation, compression and the optimize pipeline (docs/models.md); the `simdtensor` CLI.
export * from './nn/index.js';
export { runCli } from './cli/optimize.js';
// ONNX runtime: load and run .onnx models on these kernels (docs/onnx.md).
export * from './onnx/index.js';
// Serving over HTTP (`simdtensor serve`, docs/serving.md) and dynamic batching of whole models (ONNX included).
export { createServer, DynamicBatcher, batchOnnx, onnxBatchable, sequentialBatchable, loadServable } from './serve/index.js';
export type { ServeOptions, InferenceServer, BatchableModel, HostTensor, TensorSpec, ServeDType, DynamicBatcherOptions, InferOptions, Servable } from './serve/index.js';
