// f32 GEMM microkernel f32_gemm_8x12__neon: 8 rows × 3 vectors of VecNeon accumulators.
#include "common/vec_neon.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

void f32_gemm_8x12__neon(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc, unsigned flags,
            const float* bias, int act) {
  f32_gemm_ukernel<VecNeon, 8, 3>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

void f32_gemm_8x12__neon_sa(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                           unsigned flags, const float* bias, int act) {
  f32_gemm_ukernel_sa<VecNeon, 8, 3>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
