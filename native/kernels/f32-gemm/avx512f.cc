// f32 GEMM microkernel f32_gemm_8x32__avx512f: 8 rows × 2 vectors of VecAvx512 accumulators.
#include "common/vec_avx512.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

void f32_gemm_8x32__avx512f(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc, unsigned flags,
            const float* bias, int act) {
  f32_gemm_ukernel<VecAvx512, 8, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

void f32_gemm_8x32__avx512f_sa(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                              unsigned flags, const float* bias, int act) {
  f32_gemm_ukernel_sa<VecAvx512, 8, 2>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
