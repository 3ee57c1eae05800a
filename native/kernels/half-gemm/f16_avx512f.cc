// f16 GEMM microkernel f16_gemm_8x32__avx512f: f32 A × f16 B widened by vcvtph2ps zmm, 8 rows × 2 zmm of f32.
#include "common/half_avx512.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

void f16_gemm_8x32__avx512f(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                            unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecAvx512, LoadF16Vec<HalfAvx512>, 8, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

// The small-M kernels over the 32-column panels above and the 64-column panels of f16_gemm_4x64__avx512fp16.
namespace {
using GemvF16Avx512 = HalfGemvCvt<VecAvx512, LoadF16Vec<HalfAvx512>>;
}
ST_HALF_GEMV_ENTRY(f16_gemv_8x32__avx512f, GemvF16Avx512, 8, 2, 8)
ST_HALF_GEMV_ENTRY(f16_gemv_4x64__avx512f, GemvF16Avx512, 4, 4, 8)

}  // namespace simdtensor
