// f32 conv variant f32_conv_8x12__neon: the indirect microkernel (8 rows × 3 vectors of VecNeon) and the epilogue.
#include "common/vec_neon.h"
#include "kernels/f32-conv/epilogue.h"
#include "kernels/f32-conv/igemm.h"

namespace simdtensor {

const F32ConvVariant f32_conv_8x12__neon = {"f32_conv_8x12__neon", Isa::kNeon, 8, 12, &f32_igemm_ukernel<VecNeon, 8, 3>,
                                          &ConvEpilogueImpl<VecNeon>::run};

}  // namespace simdtensor
