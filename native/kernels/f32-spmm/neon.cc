// f32 sparse-weight matmul for ARM64 NEON: xt kernels over 4-lane vectors (M tile 16), BSR rows as vectors.
#include "common/vec_neon.h"
#include "kernels/f32-spmm/ukernel.h"

namespace simdtensor {

ST_F32_SPMM_PORTABLE_VARIANT(f32_spmm__neon, VecNeon, Isa::kNeon, 4, 16, "neon", "16")

}  // namespace simdtensor
