// f32 conv variant f32_conv_4x8__scalar: the indirect microkernel (4 rows × 8 vectors of VecScalar) and the epilogue.
#include "common/vec_scalar.h"
#include "kernels/f32-conv/epilogue.h"
#include "kernels/f32-conv/igemm.h"

namespace simdtensor {

const F32ConvVariant f32_conv_4x8__scalar = {"f32_conv_4x8__scalar", Isa::kScalar, 4, 8, &f32_igemm_ukernel<VecScalar, 4, 8>,
                                          &ConvEpilogueImpl<VecScalar>::run};

}  // namespace simdtensor
