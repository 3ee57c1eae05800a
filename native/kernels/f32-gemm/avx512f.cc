// f32 GEMM microkernel f32_gemm_8x32__avx512f: 8 rows × 2 vectors of VecAvx512 accumulators.
#include "common/vec_avx512.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

ST_F32_GEMM_ENTRIES(f32_gemm_8x32__avx512f, f32_gemm_sa_8x32__avx512f, VecAvx512, 8, 2)

}  // namespace simdtensor
