// f16 GEMM microkernel f16_gemm_6x16__avx2: f32 A × f16 B widened by F16C vcvtph2ps ymm, 6 rows × 2 ymm of f32.
#include "common/vec_avx2.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct LoadF16Avx2 {
  template <int NV>
  static void load(const uint16_t* b, __m256* out) {
    for (int j = 0; j < NV; j++) out[j] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 8 * j)));
  }
};
}  // namespace

void f16_gemm_6x16__avx2(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                         unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecAvx2, LoadF16Avx2, 6, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
