// bf16 GEMM microkernel bf16_gemm_8x32__avx512f: f32 A × bf16 B, 8 rows × 2 zmm of f32. The panel interleaves
// columns j and 16+j, so one 64-byte load widens into both vectors with a shift and a mask (no shuffles).
#include "common/half_avx512.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

void bf16_gemm_8x32__avx512f(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                             unsigned flags, const float* bias, int act) {
  half_cvt_gemm_ukernel<VecAvx512, LoadBf16Vec<HalfAvx512>, 8, 2>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

namespace {
using GemvBf16Avx512 = HalfGemvCvt<VecAvx512, LoadBf16Vec<HalfAvx512>>;
}
ST_HALF_GEMV_ENTRY(bf16_gemv_8x32__avx512f, GemvBf16Avx512, 8, 2, 8)

}  // namespace simdtensor
