// int8 sparse-weight linear, portable variant: plain int32 dot products of 4-byte groups.
#include "common/vec_scalar.h"
#include "kernels/s8-spmm/ukernel.h"

namespace simdtensor {

const S8SpmmVariant s8_spmm__scalar = {"s8_spmm__scalar", Isa::kScalar, 16, 1, &s8_spmm_row_scalar,
                                       &s8_spmm_row_epilogue<VecScalar>, &s8_spmm_xt_scalar<VecScalar, 16>,
                                       "s8_spmm_g4_row__scalar", "s8_spmm_g4_xt16__scalar"};

}  // namespace simdtensor
