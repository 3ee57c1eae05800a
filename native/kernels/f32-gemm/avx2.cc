// f32 GEMM microkernel f32_gemm_6x16__avx2: 6 rows × 2 vectors of VecAvx2 accumulators.
#include "common/vec_avx2.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

ST_F32_GEMM_ENTRIES(f32_gemm_6x16__avx2, f32_gemm_sa_6x16__avx2, VecAvx2, 6, 2, 6)

}  // namespace simdtensor
