/**
 * Shared types and helpers of the TensorFlow.js backend: the peer modules' shapes (types only: the modules
 * themselves are passed in at registration, so the user's installed copies are the ones used), the kernel
 * signature, and the zero-copy bridge between TF.js tensor data and simdtensor tensors.
 * @module
 */
import type * as TfCoreModule from '@tensorflow/tfjs-core';
import type * as TfCpuModule from '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { Tensor } from '../tensor.js';

/** The @tensorflow/tfjs-core module (the user's copy). */
export type TfCore = typeof TfCoreModule;
/** The @tensorflow/tfjs-backend-cpu module (the user's copy). */
export type TfCpu = typeof TfCpuModule;
/** A TF.js TensorInfo: data id, shape, dtype. */
export type TensorInfo = TfCoreModule.TensorInfo;
/** The arguments a TF.js kernel function receives. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: MathBackendCPU;
  // Kernel attributes are loosely typed by TF.js itself (NamedAttrMap).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  attrs?: Record<string, any>;
}
/** A TF.js kernel function. */
export type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];
/** One of our kernels: a result, or null to decline (the CPU backend's kernel then runs). */
export type NativeKernel = (args: KernelArgs) => TensorInfo | TensorInfo[] | null;

/** The float32 values behind a TensorInfo, read from the backend's data map without a copy (null: not float32). */
export function f32Data(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (t === undefined || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

/**
 * A conv-family kernel's attrs and its two rank-4 float32 inputs `first` and `second` (infos and data), or null
 * when either is missing, not float32 or not rank 4 (the call then declines to the CPU kernel).
 */
export function f32Pair4(args: KernelArgs, first: string, second: string) {
  const t0 = args.inputs[first], t1 = args.inputs[second];
  const d0 = f32Data(args.backend, t0), d1 = f32Data(args.backend, t1);
  if (!d0 || !d1 || t0!.shape.length !== 4 || t1!.shape.length !== 4) return null;
  return { a: args.attrs ?? {}, t0: t0!, t1: t1!, d0, d1 };
}

/** What {@link f32Pair4} finds. */
export type F32Pair4 = NonNullable<ReturnType<typeof f32Pair4>>;

/** A conv-family kernel over the inputs of {@link f32Pair4}: declines (null) where that finds none, else runs `body`. */
export function f32Pair4Kernel(first: string, second: string, body: (io: F32Pair4, args: KernelArgs) => TensorInfo | TensorInfo[] | null): NativeKernel {
  return (args) => {
    const io = f32Pair4(args, first, second);
    return io ? body(io, args) : null;
  };
}

/** Product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** A simdtensor view of TF.js data (no copy). */
export function view(data: Float32Array, shape: readonly number[]): Tensor<'float32'> {
  return new Tensor(data, shape.slice(), 'float32', data.length);
}

/** Stores `data` as a new float32 tensor in the backend and returns its TensorInfo. */
export function output(backend: MathBackendCPU, shape: readonly number[], data: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape.slice(), 'float32', data);
}
