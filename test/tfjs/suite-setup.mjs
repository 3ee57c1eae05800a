// Sets up TF.js's own backend test suite (tfjs-core dist/tests.js) to run against the 'simdtensor' backend:
// bundled by scripts/tfjs-suite.mjs before the test files, so the test environment exists when they load.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as cpu from '@tensorflow/tfjs-backend-cpu';
import { setTestEnvs, setupTestFilters } from '@tensorflow/tfjs-core/dist/jasmine_util';

// Our backend from the compiled package (dist/src/tfjs/backend.js), given the bundle's own tfjs-core and CPU
// backend, so the tests and the backend share one engine and one kernel registry.
const { registerSimdtensorBackend } = require(process.env.SIMDTENSOR_TFJS_BACKEND);
let exclude = JSON.parse(process.env.SIMDTENSOR_TFJS_EXCLUDE_KERNELS || '[]');
if (exclude.includes('*')) exclude = tf.getKernelsForBackend('cpu').map((k) => k.kernelName); // the pure fallback backend
registerSimdtensorBackend(tf, cpu, { exclude, minMatmulMacs: 0 }); // 0: the suite's small matmuls run natively too

setTestEnvs([{ name: 'simdtensor', backendName: 'simdtensor', flags: {}, isDataSync: true }]);
const specExcludes = JSON.parse(process.env.SIMDTENSOR_TFJS_EXCLUDE || '[]');
const only = process.env.SIMDTENSOR_TFJS_ONLY || '';
setupTestFilters([{ startsWith: '', excludes: specExcludes }], () => false);
if (only) {
  const env = jasmine.getEnv();
  const prev = env.configuration().specFilter;
  env.configure({ specFilter: (spec) => prev(spec) && spec.getFullName().includes(only) });
}
