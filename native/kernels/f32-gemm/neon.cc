// f32 GEMM microkernel f32_gemm_8x12__neon: 8 rows × 3 vectors of VecNeon accumulators.
#include "common/vec_neon.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

ST_F32_GEMM_ENTRIES(f32_gemm_8x12__neon, f32_gemm_sa_8x12__neon, VecNeon, 8, 3, 8)

}  // namespace simdtensor
