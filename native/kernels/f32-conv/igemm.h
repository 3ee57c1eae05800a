// The indirect f32 conv microkernel (XNNPACK's igemm idea), written once over vector traits V: MR output pixels ×
// NR output channels in registers, the inner dimension walked tap by tap through MR row pointers per tap (each a
// pixel's channel vector in the NHWC input, or a zero vector for padding), so A is never packed or copied.
// B is the same packed panel layout as the f32 GEMM. Bias and relu/gelu are fused like the GEMM microkernel's.
#pragma once
#include <cstddef>
#include "common/vec_math.h"
#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-gemm/store.h"

namespace simdtensor {
namespace {

constexpr int kConvPrefetchRows = 128;  // as the GEMM microkernel: 16 KiB of B ahead at NR = 32

template <class V, int MR, int NV, int M>
inline void f32_igemm_tile(size_t n, size_t taps, size_t cg, const float* const* a, const float* __restrict b,
                           float* __restrict c, size_t ldc, unsigned flags, const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int NR = NV * W;
  R acc[M][NV];
  gemm_tile_begin<V, M, NV>(acc, c, ldc);
  for (size_t t = 0; t < taps; t++) {
    const float* ap[M];
    for (int i = 0; i < M; i++) ap[i] = a[t * MR + i];
#pragma GCC unroll 2
    for (size_t p = 0; p < cg; p++) {
      R bv[NV];
      for (int j = 0; j < NV; j++) bv[j] = V::load(b + j * W);
      for (int l = 0; l < NR * int(sizeof(float)); l += 64) V::prefetch(b + kConvPrefetchRows * NR + l / int(sizeof(float)));
      for (int i = 0; i < M; i++) {
        R av = V::set1(ap[i][p]);
        for (int j = 0; j < NV; j++) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
      }
      b += NR;
    }
  }
  gemm_store_f32<V, M, NV>(acc, n, c, ldc, flags, bias, act);  // the GEMM microkernels' fused store
}

template <class V, int MR, int NV, int M>
inline void f32_igemm_dispatch_m(size_t m, size_t n, size_t taps, size_t cg, const float* const* a, const float* b,
                                 float* c, size_t ldc, unsigned flags, const float* bias, int act) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return f32_igemm_tile<V, MR, NV, M>(n, taps, cg, a, b, c, ldc, flags, bias, act);
    return f32_igemm_dispatch_m<V, MR, NV, M - 1>(m, n, taps, cg, a, b, c, ldc, flags, bias, act);
  }
}

// The microkernel entry: one instantiation per row count 1..MR.
template <class V, int MR, int NV>
void f32_igemm_ukernel(size_t m, size_t n, size_t taps, size_t cg, const float* const* a, const float* b, float* c,
                       size_t ldc, unsigned flags, const float* bias, int act) {
  f32_igemm_dispatch_m<V, MR, NV, MR>(m, n, taps, cg, a, b, c, ldc, flags, bias, act);
}

}  // namespace
}  // namespace simdtensor
