/**
 * The half-precision family (float16, bfloat16): casts and Float16Array interop (./cast.ts), packed half weights
 * and the half GEMM, sync and async (./gemm.ts). Importing it registers both with the op registry.
 * @module
 */
export { cast, hasFloat16Array, toFloat16Array } from './cast.js';
export type { HalfDType } from './cast.js';
export { packHalfWeights, PackedHalfWeights, probeHalfPeak, lastHalfKernel } from './gemm.js';
export type { HalfPackOptions, HalfGemmOptions } from './gemm.js';
