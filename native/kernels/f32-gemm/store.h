// The fused GEMM epilogue shared by the f32 and half microkernels: C tile (+)= the accumulators, then bias and
// activation on the last K block, in registers, and one store. Written once over vector traits V.
#pragma once
#include <cstddef>
#include "common/vec_math.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {
namespace {

// C tile (+)= acc, then bias/activation on the last K block; columns past n are neither read nor written.
template <class V, int M, int NV>
inline void gemm_store_f32(typename V::R (&acc)[M][NV], size_t n, float* __restrict c, size_t ldc, unsigned flags,
                           const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  if (n == size_t(NV * W)) {
    // Full tile: straight-line epilogue, accumulators never leave registers.
    if (flags & kGemmAccumulate)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < NV; j++) acc[i][j] = V::add(acc[i][j], V::load(c + i * ldc + j * W));
    if (flags & kGemmEpilogue) {
      if (bias)
        for (int j = 0; j < NV; j++) {
          const R bj = V::load(bias + j * W);
          for (int i = 0; i < M; i++) acc[i][j] = V::add(acc[i][j], bj);
        }
      if (act == kActRelu) {
        for (int i = 0; i < M; i++)
          for (int j = 0; j < NV; j++) acc[i][j] = vrelu<V>(acc[i][j]);
      } else if (act == kActGelu) {
        for (int i = 0; i < M; i++)
          for (int j = 0; j < NV; j++) acc[i][j] = vgelu<V>(acc[i][j]);
      }
    }
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) V::store(c + i * ldc + j * W, acc[i][j]);
    return;
  }
  // Partial tile (the last panel of a row): masked loads and stores, lanes past n never touched.
  if (flags & kGemmAccumulate)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) {
        const size_t off = size_t(j) * W;
        if (off < n) acc[i][j] = V::add(acc[i][j], V::load_partial(c + i * ldc + off, n - off));
      }
  if (flags & kGemmEpilogue) {
    if (bias)
      for (int j = 0; j < NV; j++) {
        const size_t off = size_t(j) * W;
        if (off >= n) break;
        const R bj = V::load_partial(bias + off, n - off);
        for (int i = 0; i < M; i++) acc[i][j] = V::add(acc[i][j], bj);
      }
    if (act == kActRelu) {
      for (int i = 0; i < M; i++)
        for (int j = 0; j < NV; j++) acc[i][j] = vrelu<V>(acc[i][j]);
    } else if (act == kActGelu) {
      for (int i = 0; i < M; i++)
        for (int j = 0; j < NV; j++) acc[i][j] = vgelu<V>(acc[i][j]);
    }
  }
  for (int i = 0; i < M; i++)
    for (int j = 0; j < NV; j++) {
      const size_t off = size_t(j) * W;
      if (off < n) V::store_partial(c + i * ldc + off, acc[i][j], n - off);
    }
}

}  // namespace
}  // namespace simdtensor
