/**
 * Serving: the HTTP inference server (`createServer`, `simdtensor serve`) and dynamic batching of whole models.
 * @module
 */
export { DynamicBatcher, batchOnnx, onnxBatchable, dtypeArray, dtypeBytes } from './batcher.js';
export type { BatchableModel, HostTensor, TensorSpec, ServeDType, DynamicBatcherOptions, InferOptions } from './batcher.js';
export { sequentialBatchable, loadServable, defaultName, INLINE_MACS } from './models.js';
export type { Servable } from './models.js';
export { createServer } from './server.js';
export type { ServeOptions, InferenceServer } from './server.js';
export { ProtocolError, parseInferRequest, encodeInferResponse, v2Datatype, HeaderCache } from './protocol.js';
export { InferCodec } from './codec.js';
