/**
 * `simdtensor/tfjs`: importing it registers the 'simdtensor' TensorFlow.js backend with the @tensorflow/tfjs-core
 * and @tensorflow/tfjs-backend-cpu the application has installed (peer dependencies), at a priority above 'cpu'
 * and 'wasm', so `await tf.ready()` selects it. See docs/tfjs.md.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as cpu from '@tensorflow/tfjs-backend-cpu';
import { registerSimdtensorBackend } from './backend.js';
import type { Registration } from './backend.js';
import { optimizeLayersModel as optimizeWith } from './optimize.js';
import type { OptimizeOptions, OptimizeSummary } from './optimize.js';

export { registerSimdtensorBackend, kernelStats, BACKEND_NAME, BACKEND_PRIORITY } from './backend.js';
export type { RegisterOptions, Registration } from './backend.js';
export { setNumThreads, getNumThreads } from '../executor/index.js';
export { setRecycleLimit, recycleStats } from './buffers.js';
export { setInt8Mode, getInt8Mode } from './int8.js';

/** The registration made on import (backend name, native and fallback kernel names). */
export const registration: Registration = registerSimdtensorBackend(tf, cpu);

export type { OptimizeSummary, OptimizeOptions } from './optimize.js';
/**
 * Folds each BatchNormalization, ReLU / relu6 activation and ZeroPadding2D that alone follows (or feeds) a Conv2D /
 * DepthwiseConv2D of a tfjs-layers model into that conv, and, when every layer is one it covers, compiles the model
 * so that `predict` / `execute` on the simdtensor backend run it as one kernel (inference only; docs/tfjs.md).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function optimizeLayersModel(model: any, opts?: OptimizeOptions): OptimizeSummary {
  return optimizeWith(tf, model, opts);
}
