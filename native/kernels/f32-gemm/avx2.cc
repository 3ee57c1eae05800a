// f32 GEMM microkernel f32_gemm_6x16__avx2: 6 rows × 2 vectors of VecAvx2 accumulators.
#include "common/vec_avx2.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

void f32_gemm_6x16__avx2(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc, unsigned flags,
            const float* bias, int act) {
  f32_gemm_ukernel<VecAvx2, 6, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

void f32_gemm_6x16__avx2_sa(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                           unsigned flags, const float* bias, int act) {
  f32_gemm_ukernel_sa<VecAvx2, 6, 2>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
