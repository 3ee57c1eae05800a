// GotoBLAS/BLIS-style f32 GEMM driver over a prepacked B: cache blocking, A packing, tiling, threads.
#pragma once
#include <cstddef>
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {

struct F32GemmArgs {
  size_t m, n, k;
  const float* a;  // M×K, row stride lda
  size_t lda;
  const float* b_packed;  // pack_b_f32 layout with the variant's nr
  float* c;               // M×N, row stride ldc
  size_t ldc;
  const float* bias;  // N floats or null
  int act;
};

// Cache-blocking parameters (floats). KC·NR·4 bytes of B micro-panel stay in L1 across the row tiles;
// MC·KC·4 bytes of packed A stay in L2.
struct F32GemmBlocking {
  size_t kc, mc;
  size_t small_m;  // at or below this M, A is packed whole and each B panel is streamed once over full K
};
F32GemmBlocking f32_gemm_blocking(const F32GemmVariant& v);

// How f32_gemm_run splits one call over threads: a grid of tm × tn × tk tasks, each rows_per rows × cols_per
// columns × k_per of K (the last ones shorter). tk > 1 only when M×N has fewer tiles than threads and K is long;
// then each K chunk writes partial sums and a reduction applies bias and activation.
struct F32GemmPartition {
  size_t rows_per, cols_per, k_per;
  size_t tm, tn, tk;
};
constexpr double kF32GemmMinParallelFlops = 2e6;
constexpr size_t kF32GemmMinKChunk = 256;
F32GemmPartition f32_gemm_partition(const F32GemmVariant& v, size_t m, size_t n, size_t k, size_t threads);

void f32_gemm_run(const F32GemmVariant& v, const F32GemmArgs& args);

}  // namespace simdtensor
