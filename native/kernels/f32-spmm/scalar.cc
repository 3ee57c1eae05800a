// f32 sparse-weight matmul, portable scalar variant (VecScalar: the xt kernels still vectorize over M in C++).
#include "common/vec_scalar.h"
#include "kernels/f32-spmm/ukernel.h"

namespace simdtensor {

ST_F32_SPMM_PORTABLE_VARIANT(f32_spmm__scalar, VecScalar, Isa::kScalar, 8, 8, "scalar", "8", 1, 16,
                             &spmm_nm_panel_any<VecScalar, SpmmPanelSelScalar, 16>, "f32_spmm_nm_8x1__scalar")

}  // namespace simdtensor
