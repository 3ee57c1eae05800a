// f16 GEMM microkernel f16_gemm_8x32__avx512f: f32 A × f16 B widened by vcvtph2ps zmm, 8 rows × 2 zmm of f32.
#include "common/half_avx512.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

ST_HALF_CVT_ENTRIES(f16_gemm_8x32__avx512f, f16_gemv_8x32__avx512f, VecAvx512, LoadF16Vec<HalfAvx512>, 8, 2, 8, 8)
// The 64-column panels of f16_gemm_4x64__avx512fp16, read by AVX-512 F16C conversion (f32 accumulation).
ST_HALF_GEMV_ENTRY(f16_gemv_4x64__avx512f, 4, 4, 8, HalfGemvCvt<VecAvx512, LoadF16Vec<HalfAvx512>>)

}  // namespace simdtensor
