/**
 * The sparse family: SparseTensor and its constructors (./tensor.ts), `linear` on sparse weights, sync and async
 * (./linear.ts), and magnitude pruning with its gradual schedule (./prune.ts). Importing it registers the sparse
 * linear with the op registry.
 * @module
 */
export { SparseTensor, toSparse, sparseCsr, sparseBsr, sparseNm } from './tensor.js';
export type { SparseFormat, ToSparseOptions, SparseKernelMode, CsrInit, BsrInit, NmInit } from './tensor.js';
export { lastSparseKernel } from './linear.js';
export type { SparseLinearOptions } from './linear.js';
export { prune, cubicSparsity, gradualPruning } from './prune.js';
export type { PrunePattern, PruneCriterion, PruneOptions, PruneResult, GradualPruningOptions, GradualPruning } from './prune.js';
