// f16 GEMM microkernel f16_gemm_6x16__avx2: f32 A × f16 B widened by F16C vcvtph2ps ymm, 6 rows × 2 ymm of f32.
#include "common/half_avx2.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

ST_HALF_CVT_ENTRIES(f16_gemm_6x16__avx2, f16_gemv_6x16__avx2, VecAvx2, LoadF16Vec<HalfAvx2>, 6, 2, 6, 8)

}  // namespace simdtensor
