// f16 GEMM microkernel f16_gemm_6x16__avx2: f32 A × f16 B widened by F16C vcvtph2ps ymm, 6 rows × 2 ymm of f32.
#include "common/half_avx2.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

void f16_gemm_6x16__avx2(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                         unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecAvx2, LoadF16Vec<HalfAvx2>, 6, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

namespace {
using Gemv = HalfGemvCvt<VecAvx2, LoadF16Vec<HalfAvx2>>;
}
ST_HALF_GEMV_ENTRY(f16_gemv_6x16__avx2, Gemv, 6, 2, 8)

}  // namespace simdtensor
