// f32 GEMM microkernel f32_gemm_4x8__scalar: 4 rows × 8 vectors of VecScalar accumulators.
#include "common/vec_scalar.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

void f32_gemm_4x8__scalar(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc, unsigned flags,
            const float* bias, int act) {
  f32_gemm_ukernel<VecScalar, 4, 8>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

void f32_gemm_4x8__scalar_sa(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                            unsigned flags, const float* bias, int act) {
  f32_gemm_ukernel_sa<VecScalar, 4, 8>(m, n, kc, a, lda, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
