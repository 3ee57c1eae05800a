// f16 GEMM microkernel f16_gemm_4x8__scalar: portable convert-then-multiply (4 rows × 8 columns).
#include "common/half.h"
#include "common/vec_scalar.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

void f16_gemm_4x8__scalar(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                          unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecScalar, LoadHalfScalar<f16_to_f32_scalar>, 4, 8>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

namespace {
using Gemv = HalfGemvCvt<VecScalar, LoadHalfScalar<f16_to_f32_scalar>>;
}
ST_HALF_GEMV_ENTRY(f16_gemv_4x8__scalar, Gemv, 4, 8, 8)

}  // namespace simdtensor
