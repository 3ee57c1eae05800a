// bf16 GEMM microkernel bf16_gemm_4x8__scalar: portable convert-then-multiply (4 rows × 8 columns).
#include "common/half.h"
#include "common/vec_scalar.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

ST_HALF_CVT_ENTRIES(bf16_gemm_4x8__scalar, bf16_gemv_4x8__scalar, VecScalar, LoadHalfScalar<bf16_to_f32_scalar>, 4, 8, 4, 8)

}  // namespace simdtensor
