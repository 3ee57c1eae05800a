// Sparse-weight linear driver: activation transposes, M tiles, row chunks over threads, the measured crossover
// to the dense GEMM, and the plain-C++ entry point `f32_sparse_linear` (no N-API; callable from any thread).
#pragma once
#include <cstddef>

#include "kernels/f32-spmm/f32-spmm.h"
#include "runtime/sparse/weights.h"

namespace simdtensor {

struct F32SpmmArgs {
  const F32SparseView* w;
  size_t m;
  const float* x;  // [m × K], row stride ldx
  size_t ldx;
  float* out;      // [m × N], row stride ldo
  size_t ldo;
  const float* bias;  // N floats or null
  int act;
  // N:M weights packed for the variant's panel kernel (panel_nr wide); null: packed per call when the panel path
  // runs (tests), so callers that run it repeatedly pass F32SparseWeights::nm_panels.
  const F32NmPanels* panels = nullptr;
  // CSR repacked for the variant's chunked xt kernel; null: packed per call where f32_spmm_csr_chunk_kb says the
  // chunked kernel runs, so callers that run it repeatedly pass F32SparseWeights::csr_chunks. Tests may pass a
  // pack with any kb and rows: it runs wherever the chunked kernel can (CSR, M past narrow_w).
  const F32CsrChunks* chunks = nullptr;
};

enum class SpmmPath : int {
  kAuto = 0,
  kXt = 1,   // transposed activations, vectorized over M
  kRow = 2,  // per-row dot products (gathers), for small M
  kPanel = 3,  // N:M only: weights vectorized over N in panels, M rows register-blocked (falls back to kXt where
               // the variant has no panel kernel or m is past its panel_max_m)
};

// CSR xt path: the K-block width (columns) of the chunked kernel for this M, or 0 when the per-row kernel runs
// (no chunked kernel in the variant, ymm tiles at small M, K = 0); and the rows per chunk group for these weights.
size_t f32_spmm_csr_chunk_kb(const F32SpmmVariant& v, const F32SparseView& w, size_t m);
size_t f32_spmm_csr_chunk_rows(const F32SpmmVariant& v, const F32SparseView& w);
// The path kAuto takes for this M.
SpmmPath f32_spmm_auto_path(const F32SpmmVariant& v, const F32SparseView& w, size_t m);
// The kernel the path runs for this M (the chunked CSR kernel where f32_spmm_csr_chunk_kb picks it).
const char* f32_spmm_kernel_name(const F32SpmmVariant& v, const F32SparseView& w, SpmmPath path, size_t m);
// Runs out = act(x·wᵀ + bias) with the sparse kernels; returns the name of the kernel that ran.
const char* f32_spmm_run(const F32SpmmVariant& v, const F32SpmmArgs& a, SpmmPath path = SpmmPath::kAuto);

// The crossover table (docs/sparse.md): the highest density (stored values / (N·K)) at which the sparse kernel
// still beats the dense GEMM on this variant's ISA, for this format and M. Dense is used above it.
double f32_spmm_max_density(const F32SpmmVariant& v, const F32SparseView& w, size_t m);
bool f32_spmm_prefer_dense(const F32SpmmVariant& v, const F32SparseView& w, size_t m);

enum class SparseMode : int { kAuto = 0, kSparse = 1, kDense = 2 };

struct F32SparseLinearArgs {
  F32SparseWeights* w;
  size_t m;
  const float* x;   // [m × K] contiguous
  float* out;       // [m × N] contiguous
  const float* bias;
  int act;
  SparseMode mode;
};
// x·wᵀ (+bias, act): the sparse kernel, or the dense GEMM on a dense copy of w (made once, on first need) where
// the crossover says dense is faster or mode is kDense. CSR that a chunked kernel runs (the density and shape of
// f32_spmm_csr_chunk_kb, on a variant that has one) is repacked on the first sparse call into chunks that serve
// every M, and its CSR arrays are released. Returns the kernel name that ran.
const char* f32_sparse_linear(const F32SparseLinearArgs& a);
// The kernel f32_sparse_linear would run for this M and mode (no work done).
const char* f32_sparse_kernel_for(const F32SparseWeights& w, size_t m, SparseMode mode);

}  // namespace simdtensor
