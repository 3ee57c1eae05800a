// The fused GEMM epilogue shared by the f32 and half microkernels: C tile (+)= the accumulators, then bias and
// activation on the last K block, in registers, and one store. Written once over vector traits V.
#pragma once
#include <cstddef>
#include "common/unroll.h"
#include "common/vec_math.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {
namespace {

// One C row segment of the tile: whole vectors when Full, else the lanes before n (off < n) only.
template <class V, bool Full>
inline typename V::R gemm_load_c(const float* p, size_t rem) {
  if constexpr (Full) return V::load(p);
  else return V::load_partial(p, rem);
}

// C tile (+)= acc, then bias/activation on the last K block, in registers, and one store. Full: the tile is NV·W
// columns wide (straight-line, accumulators never leave registers); otherwise (the last panel of a row) masked loads
// and stores, and columns past n are neither read nor written.
template <class V, int M, int NV, bool Full>
inline void gemm_store_f32_tile(typename V::R (&acc)[M][NV], size_t n, float* __restrict c, size_t ldc,
                                unsigned flags, const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  if (flags & kGemmAccumulate)
    ST_UNROLL
    for (int i = 0; i < M; i++)
      ST_UNROLL
      for (int j = 0; j < NV; j++) {
        if constexpr (Full) {
          acc[i][j] = V::add(acc[i][j], V::load(c + i * ldc + j * W));
        } else {
          const size_t off = size_t(j) * W;
          if (off < n) acc[i][j] = V::add(acc[i][j], V::load_partial(c + i * ldc + off, n - off));
        }
      }
  if (flags & kGemmEpilogue) {
    if (bias)
      ST_UNROLL
      for (int j = 0; j < NV; j++) {
        const size_t off = size_t(j) * W;
        if (!Full && off >= n) break;
        const R bj = gemm_load_c<V, Full>(bias + off, n - off);
        ST_UNROLL
        for (int i = 0; i < M; i++) acc[i][j] = V::add(acc[i][j], bj);
      }
    if (act == kActRelu) {
      ST_UNROLL
      for (int i = 0; i < M; i++)
        ST_UNROLL
        for (int j = 0; j < NV; j++) acc[i][j] = vrelu<V>(acc[i][j]);
    } else if (act == kActGelu) {
      ST_UNROLL
      for (int i = 0; i < M; i++)
        ST_UNROLL
        for (int j = 0; j < NV; j++) acc[i][j] = vgelu_rational<V>(acc[i][j]);
    }
  }
  ST_UNROLL
  for (int i = 0; i < M; i++)
    ST_UNROLL
    for (int j = 0; j < NV; j++) {
      const size_t off = size_t(j) * W;
      if constexpr (Full) V::store(c + i * ldc + off, acc[i][j]);
      else if (off < n) V::store_partial(c + i * ldc + off, acc[i][j], n - off);
    }
}

// C tile (+)= acc, then bias/activation on the last K block; columns past n are neither read nor written.
template <class V, int M, int NV>
inline void gemm_store_f32(typename V::R (&acc)[M][NV], size_t n, float* __restrict c, size_t ldc, unsigned flags,
                           const float* bias, int act) {
  if (n == size_t(NV * V::W)) return gemm_store_f32_tile<V, M, NV, true>(acc, n, c, ldc, flags, bias, act);
  gemm_store_f32_tile<V, M, NV, false>(acc, n, c, ldc, flags, bias, act);
}

// Starts pulling the C tile's lines in during the K loop (it is read or written right after).
template <class V, int M, int NR>
inline void gemm_prefetch_c(const float* c, size_t ldc) {
  ST_UNROLL
  for (int i = 0; i < M; i++) {
    V::prefetch(c + i * ldc);
    V::prefetch(c + i * ldc + NR - 1);
  }
}

// Zeroes the accumulators and prefetches the C tile: the start of every f32-accumulating GEMM tile.
template <class V, int M, int NV>
inline void gemm_tile_begin(typename V::R (&acc)[M][NV], const float* c, size_t ldc) {
  ST_UNROLL
  for (int i = 0; i < M; i++)
    ST_UNROLL
    for (int j = 0; j < NV; j++) acc[i][j] = V::zero();
  gemm_prefetch_c<V, M, NV * V::W>(c, ldc);
}

}  // namespace
}  // namespace simdtensor
