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

void f32_gemm_run(const F32GemmVariant& v, const F32GemmArgs& args);

}  // namespace simdtensor
