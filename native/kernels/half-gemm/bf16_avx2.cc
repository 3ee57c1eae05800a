// bf16 GEMM microkernel bf16_gemm_6x16__avx2: f32 A × bf16 B, 6 rows × 2 ymm of f32; columns j and 8+j are
// interleaved in the panel so one 32-byte load widens into both vectors with a shift and a mask.
#include "common/vec_avx2.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct LoadBf16Avx2 {
  template <int NV>
  static void load(const uint16_t* b, __m256* out) {
    static_assert(NV % 2 == 0, "interleaved pairs of vectors");
    const __m256i hi_mask = _mm256_set1_epi32(int(0xffff0000u));
    for (int t = 0; t < NV / 2; t++) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 * t));
      out[2 * t] = _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
      out[2 * t + 1] = _mm256_castsi256_ps(_mm256_and_si256(x, hi_mask));
    }
  }
};
}  // namespace

void bf16_gemm_6x16__avx2(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                          unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecAvx2, LoadBf16Avx2, 6, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
