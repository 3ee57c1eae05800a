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

export { registerSimdtensorBackend, kernelStats, BACKEND_NAME, BACKEND_PRIORITY } from './backend.js';
export type { RegisterOptions, Registration } from './backend.js';
export { setNumThreads, getNumThreads } from '../executor/index.js';
export { setRecycleLimit, recycleStats } from './buffers.js';

/** The registration made on import (backend name, native and fallback kernel names). */
export const registration: Registration = registerSimdtensorBackend(tf, cpu);
