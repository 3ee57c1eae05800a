// f16 GEMM microkernel f16_gemm_4x8__scalar: portable convert-then-multiply (4 rows × 8 columns).
#include "common/half.h"
#include "common/vec_scalar.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct LoadF16Scalar {
  template <int NV>
  static void load(const uint16_t* b, float* out) {
    for (int j = 0; j < NV; j++) out[j] = f16_to_f32_scalar(b[j]);
  }
};
}  // namespace

void f16_gemm_4x8__scalar(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                          unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecScalar, LoadF16Scalar, 4, 8>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
