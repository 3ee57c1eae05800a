/**
 * The table of our native TF.js kernels, by TF.js kernel name. Each declines (returns null) on a case it does not
 * cover, and the CPU backend's kernel runs instead.
 * @module
 */
import type { NativeKernel, TfCore } from './types.js';
import { convKernels } from './conv.js';
import { matmulKernels } from './matmul.js';
import { eltwiseKernels } from './eltwise.js';
import { gradKernels } from './grad.js';

/** Our kernels for the given tfjs-core (they read its backend_util helpers). */
export function nativeKernels(tf: TfCore, minMatmulMacs?: number): Record<string, NativeKernel> {
  return { ...convKernels(tf), ...matmulKernels(tf, minMatmulMacs), ...eltwiseKernels(tf), ...gradKernels(tf) };
}
