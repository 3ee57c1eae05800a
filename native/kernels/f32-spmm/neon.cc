// f32 sparse-weight matmul for ARM64 NEON: xt kernels over 4-lane vectors (M tile 16), BSR rows as vectors; no N:M
// panel kernel (a per-lane select would need tbl on bytes: not written), so N:M runs the xt kernels.
#include "common/vec_neon.h"
#include "kernels/f32-spmm/ukernel.h"

namespace simdtensor {

ST_F32_SPMM_PORTABLE_VARIANT(f32_spmm__neon, VecNeon, Isa::kNeon, 4, 16, "neon", "16", 0, 0, nullptr, nullptr)

}  // namespace simdtensor
