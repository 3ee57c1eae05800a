// f32 GEMM microkernel f32_gemm_4x8__scalar: 4 rows × 8 vectors of VecScalar accumulators.
#include "common/vec_scalar.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

ST_F32_GEMM_ENTRIES(f32_gemm_4x8__scalar, f32_gemm_sa_4x8__scalar, VecScalar, 4, 8, 4)

}  // namespace simdtensor
