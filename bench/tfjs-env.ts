/**
 * What the nsfwjs MobileNetV2 benches load: TF.js with its wasm backend registered, simdtensor's TF.js backend and
 * nsfwjs (CommonJS packages sharing the user's tfjs-core), each backend set to `threads` threads.
 * @module
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;

/** tf, simdtensor's backend module and nsfwjs; simdtensor setNumThreads and wasm setThreadsCount set to `threads`. */
export async function loadTfjs(threads: number): Promise<{ tf: Any; st: Any; nsfwjs: Any }> {
  const tf: Any = require('@tensorflow/tfjs');
  const wasm: Any = require('@tensorflow/tfjs-backend-wasm');
  const st: Any = await import('../src/tfjs/index.js');
  const nsfwjs: Any = require('nsfwjs');
  st.setNumThreads(threads);
  wasm.setThreadsCount?.(threads);
  return { tf, st, nsfwjs };
}
