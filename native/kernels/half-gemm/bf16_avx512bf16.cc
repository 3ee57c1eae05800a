// bf16 GEMM microkernel bf16_gemm_8x32__avx512bf16: vdpbf16ps (two bf16 products per f32 lane per instruction),
// 8 rows × 2 zmm of f32. A comes packed as 32-bit (A[i][2q], A[i][2q+1]) pairs, B as K-pair-interleaved panels.
// Like every AVX512-BF16 instruction it treats subnormal inputs as zero and flushes subnormal results.
#include "common/vec_avx512.h"
#include <cstring>

#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
template <int MR, int NV, int M>
inline void bf16_dot_tile(size_t n, size_t kc, const uint32_t* __restrict a, const uint16_t* __restrict b,
                          float* __restrict c, size_t ldc, unsigned flags, const float* bias, int act) {
  constexpr int NR = NV * 16;
  // One or two rows (GEMV-like): split K over KS accumulator sets so the dot-product latency is covered.
  constexpr int KS = M <= 2 ? 4 / M : 1;
  __m512 acc[KS][M][NV];
  for (int s = 0; s < KS; s++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) acc[s][i][j] = _mm512_setzero_ps();
  const size_t kq = (kc + 1) / 2;  // the packing zero-pads an odd K
  gemm_prefetch_c<VecAvx512, M, NR>(c, ldc);
  auto step = [&](__m512 (&ac)[M][NV]) {
    __m512bh bv[NV];
    for (int j = 0; j < NV; j++) bv[j] = __m512bh(_mm512_loadu_si512(b + 32 * j));
    _mm_prefetch(reinterpret_cast<const char*>(b + kHalfPrefetchHalves), _MM_HINT_T0);
    for (int i = 0; i < M; i++) {
      const __m512bh av = __m512bh(_mm512_set1_epi32(int(a[i])));
      for (int j = 0; j < NV; j++) ac[i][j] = _mm512_dpbf16_ps(ac[i][j], av, bv[j]);
    }
    a += MR;
    b += 2 * NR;
  };
  size_t q = 0;
  if constexpr (KS > 1)
    for (; q + KS <= kq; q += KS)
      for (int s = 0; s < KS; s++) step(acc[s]);
#pragma GCC unroll 2
  for (; q < kq; q++) step(acc[0]);
  for (int s = 1; s < KS; s++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) acc[0][i][j] = _mm512_add_ps(acc[0][i][j], acc[s][i][j]);
  gemm_store_f32<VecAvx512, M, NV>(acc[0], n, c, ldc, flags, bias, act);
}

template <int MR, int NV, int M>
inline void bf16_dot_dispatch_m(size_t m, size_t n, size_t kc, const uint32_t* a, const uint16_t* b, float* c,
                                size_t ldc, unsigned flags, const float* bias, int act) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return bf16_dot_tile<MR, NV, M>(n, kc, a, b, c, ldc, flags, bias, act);
    return bf16_dot_dispatch_m<MR, NV, M - 1>(m, n, kc, a, b, c, ldc, flags, bias, act);
  }
}
}  // namespace

void bf16_gemm_8x32__avx512bf16(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                                unsigned flags, const float* bias, int act) {
  bf16_dot_dispatch_m<8, 2, 8>(m, n, kc, static_cast<const uint32_t*>(a), b, c, ldc, flags, bias, act);
}

// The small-M kernel over the same K-pair panels (and AMX's, K padded further): bf16 rows of A read in place, one
// 32-bit (A[i][2q], A[i][2q+1]) pair broadcast per K pair.
namespace {
struct GemvBf16Dot {
  using V = VecAvx512;
  using AElem = uint16_t;
  using A = __m512bh;
  using B = __m512bh;
  static constexpr int KR = 2;
  template <int NV>
  static void load_b(const uint16_t* b, B* out) {
    for (int j = 0; j < NV; j++) out[j] = __m512bh(_mm512_loadu_si512(b + 32 * j));
  }
  static A bcast(const uint16_t* p) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    return __m512bh(_mm512_set1_epi32(int(x)));
  }
  static A bcast_last(const uint16_t* p) { return __m512bh(_mm512_set1_epi32(int(uint32_t(*p)))); }
  static __m512 dot(__m512 acc, A a, B b) { return _mm512_dpbf16_ps(acc, a, b); }
};
}  // namespace
ST_HALF_GEMV_ENTRY(bf16_gemv_8x32__avx512bf16, 8, 2, 8, GemvBf16Dot)

}  // namespace simdtensor
