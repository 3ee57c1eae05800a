// The register-blocked f32 GEMM microkernel, written once over vector traits V and instantiated per ISA.
// MR rows × NV vectors of accumulators stay in registers for the whole K block; bias/activation are
// applied to the registers before the single store (fused epilogue).
#pragma once
#include <cstddef>
#include "common/unroll.h"
#include "common/vec_math.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-gemm/store.h"

namespace simdtensor {
namespace {

// Software prefetch distance along a B micro-panel, in K rows: 128 rows = 16 KiB ahead at NR = 32. Streaming
// weights from DRAM (small M), one core's bandwidth is bounded by the misses in flight: 16 rows (2 KiB) ahead held
// the 8×4096×4096 product on Zen 5 to ~75–90 GFLOP/s (~21 GB/s), 128 rows reach ~130–160 (medians of 9, three
// runs each, interleaved); the large-M shapes (B from L2) were unchanged within the noise (±5 %).
constexpr int kF32PrefetchRows = 128;

// SA (strided A): A is read in place, row i of the tile at a + i·lda and step p at +p, instead of the packed
// micro-panel (kc groups of MR); the broadcasts cost the same either way.
template <class V, int MR, int NV, int M, bool SA = false>
inline void f32_gemm_tile(size_t n, size_t kc, const float* __restrict a, size_t lda, const float* __restrict b,
                          float* __restrict c, size_t ldc, unsigned flags, const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int NR = NV * W;
  R acc[M][NV];
  gemm_tile_begin<V, M, NV>(acc, c, ldc);
#pragma GCC unroll 2
  for (size_t p = 0; p < kc; p++) {
    R bv[NV];
    for (int j = 0; j < NV; j++) bv[j] = V::load(b + j * W);
    // Every 64-byte line of the B row kPrefetchRows ahead (one prefetch per row would reach only half the lines
    // of a 128-byte AVX-512 row).
    for (int l = 0; l < NR * int(sizeof(float)); l += 64) V::prefetch(b + kF32PrefetchRows * NR + l / int(sizeof(float)));
    for (int i = 0; i < M; i++) {
      R av = V::set1(SA ? a[i * lda] : a[i]);
      for (int j = 0; j < NV; j++) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
    a += SA ? 1 : MR;
    b += NR;
  }
  if (flags & kGemmRowScale) {
    ST_UNROLL
    for (int i = 0; i < M; i++) {
      const R s = V::set1(bias[i]);
      ST_UNROLL
      for (int j = 0; j < NV; j++) acc[i][j] = V::mul(acc[i][j], s);
    }
    bias = nullptr;
  }
  gemm_store_f32<V, M, NV>(acc, n, c, ldc, flags, bias, act);
}

template <class V, int MR, int NV, int M, bool SA = false>
inline void f32_gemm_dispatch_m(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c,
                                size_t ldc, unsigned flags, const float* bias, int act) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return f32_gemm_tile<V, MR, NV, M, SA>(n, kc, a, lda, b, c, ldc, flags, bias, act);
    return f32_gemm_dispatch_m<V, MR, NV, M - 1, SA>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);
  }
}

// The microkernel entry: one instantiation per row count 1..MR, so partial row tiles run at full speed.
template <class V, int MR, int NV>
inline void f32_gemm_ukernel(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                             unsigned flags, const float* bias, int act) {
  f32_gemm_dispatch_m<V, MR, NV, MR>(m, n, kc, a, 0, b, c, ldc, flags, bias, act);
}

// The strided-A twin (F32GemmVariant::ukernel_sa), MR here being the variant's mr_sa.
template <class V, int MR, int NV>
inline void f32_gemm_ukernel_sa(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c,
                                size_t ldc, unsigned flags, const float* bias, int act) {
  f32_gemm_dispatch_m<V, MR, NV, MR, true>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);
}

}  // namespace
// The two entry points of one f32 GEMM variant over traits V (NV vectors wide): `name` reads packed A tiles of MR
// rows, `sa_name` (f32_gemm_sa_<tile>__<isa>) reads A in place at row stride lda, MR_SA rows at most. Each ISA file
// is one line of this, compiled with its own flags.
#define ST_F32_GEMM_ENTRIES(name, sa_name, V, MR, NV, MR_SA)                                                      \
  void name(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc, unsigned flags,   \
            const float* bias, int act) {                                                                          \
    f32_gemm_ukernel<V, MR, NV>(m, n, kc, a, b, c, ldc, flags, bias, act);                                         \
  }                                                                                                                \
  void sa_name(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,    \
               unsigned flags, const float* bias, int act) {                                                       \
    f32_gemm_ukernel_sa<V, MR_SA, NV>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);                              \
  }

}  // namespace simdtensor
