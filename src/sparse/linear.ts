/**
 * `linear(x, sparse)` on the sparse kernels, sync and async, which falls back to the dense GEMM where the measured
 * crossover says dense is faster (docs/sparse.md). Importing this module registers it with the op registry.
 * @module
 */
import { rangeError, typeError } from '../errors.js';
import { native } from '../native.js';
import type { NativeSparseF32, NativeSparseS8 } from '../native.js';
import { checkTensor, Tensor } from '../tensor.js';
import { activationCode, checkBias, gemmRows, outTensor } from '../ops/gemm-args.js';
import { checkSignal, GemmOptions, monitorHook, registerAsyncLinear, registerLinear, registerPack, type AsyncGemmOptions } from '../ops/registry.js';
import { runNativeAsync } from '../executor/submit.js';
import { modeCode, SparseTensor, type SparseKernelMode } from './tensor.js';

/** Options of `linear(x, sparseWeights, bias, opts)` beyond the common GEMM options. */
export interface SparseLinearOptions extends GemmOptions {
  /** 'auto' (default): dense where the crossover table says it is faster; 'sparse' / 'dense' force one. */
  sparseKernel?: SparseKernelMode;
}

let lastKernel = '';

/** The kernel the most recent sparse `linear` call ran (sparse kernel or dense fallback); '' before any call. */
export function lastSparseKernel(): string {
  return lastKernel;
}

function prepare(fn: string, x: Tensor, w: SparseTensor, bias: Tensor | null | undefined, opts: SparseLinearOptions) {
  checkTensor(fn, 'x', x);
  if (x.dtype !== 'float32') throw typeError(fn, `x.dtype must be float32 for sparse ${w.dtype} weights, got ${x.dtype}`);
  if (x.ndim < 1) throw rangeError(fn, 'x must have at least 1 dimension');
  const [n, k] = w.shape;
  const kx = x.shape[x.ndim - 1];
  if (kx !== k) throw rangeError(fn, `x.shape[${x.ndim - 1}] (${kx}) must equal w.shape[1] (${k}) (in features)`);
  const m = gemmRows(x, k);
  const b = checkBias(fn, bias, n);
  const act = activationCode(fn, opts.activation);
  const mode = modeCode(fn, opts.sparseKernel);
  const out = outTensor(fn, opts.out, m, n, x, [['x', x.data], ['bias', b]]);
  return { m, b, act, mode, out };
}

function sparseLinear(x: Tensor, w: SparseTensor, bias: Tensor | null | undefined, opts: SparseLinearOptions): Tensor {
  const fn = 'linear';
  const { m, b, act, mode, out } = prepare(fn, x, w, bias, opts);
  const t0 = monitorHook.on ? performance.now() : 0;
  const h = w.native();
  lastKernel =
    w.dtype === 'int8'
      ? native.sparseS8Linear(h as NativeSparseS8, x.data as Float32Array, m, out.data, b, act, mode)
      : native.sparseLinear(h as NativeSparseF32, x.data as Float32Array, m, out.data, b, act, mode);
  if (monitorHook.on) monitorHook.record('linear', lastKernel, t0);
  return out;
}

async function sparseLinearAsync(x: Tensor, w: SparseTensor, bias: Tensor | null | undefined, opts: SparseLinearOptions & AsyncGemmOptions): Promise<Tensor> {
  const fn = 'linearAsync';
  const { m, b, act, mode, out } = prepare(fn, x, w, bias, opts);
  const h = w.native();
  const kernel = w.kernelFor(m, (opts.sparseKernel as SparseKernelMode | undefined) ?? 'auto');
  const t0 = monitorHook.on ? performance.now() : 0;
  const signal = checkSignal(fn, opts.signal);
  const xd = x.data as Float32Array;
  await runNativeAsync(
    fn,
    signal,
    (id) =>
      w.dtype === 'int8'
        ? native.sparseS8LinearAsync(h as NativeSparseS8, xd, m, out.data, b, act, mode, id)
        : native.sparseLinearAsync(h as NativeSparseF32, xd, m, out.data, b, act, mode, id),
    out,
  );
  lastKernel = kernel;
  if (monitorHook.on) monitorHook.record('linearAsync', kernel, t0);
  return out;
}

registerLinear({
  name: 'sparse',
  match: (w) => w instanceof SparseTensor,
  run: (x, w, bias, opts) => sparseLinear(x, w as SparseTensor, bias, opts as SparseLinearOptions),
});
registerAsyncLinear({
  name: 'sparse',
  match: (w) => w instanceof SparseTensor,
  run: (x, w, bias, opts) => sparseLinearAsync(x, w as SparseTensor, bias, opts as SparseLinearOptions & AsyncGemmOptions),
});
// packWeights(sparse): validates and copies into native memory now instead of on the first call.
registerPack({
  name: 'sparse',
  match: (w) => w instanceof SparseTensor,
  pack: (w) => {
    (w as SparseTensor).native();
    return w;
  },
});
