// bf16 GEMM microkernel bf16_gemm_8x32__avx512f: f32 A × bf16 B, 8 rows × 2 zmm of f32. The panel interleaves
// columns j and 16+j, so one 64-byte load widens into both vectors with a shift and a mask (no shuffles).
#include "common/vec_avx512.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct LoadBf16Avx512 {
  template <int NV>
  static void load(const uint16_t* b, __m512* out) {
    static_assert(NV % 2 == 0, "interleaved pairs of vectors");
    const __m512i hi_mask = _mm512_set1_epi32(int(0xffff0000u));
    for (int t = 0; t < NV / 2; t++) {
      const __m512i x = _mm512_loadu_si512(b + 32 * t);
      out[2 * t] = _mm512_castsi512_ps(_mm512_slli_epi32(x, 16));
      out[2 * t + 1] = _mm512_castsi512_ps(_mm512_and_si512(x, hi_mask));
    }
  }
};
}  // namespace

void bf16_gemm_8x32__avx512f(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                             unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecAvx512, LoadBf16Avx512, 8, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
