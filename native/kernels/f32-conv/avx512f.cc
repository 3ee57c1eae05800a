// f32 conv variant f32_conv_8x32__avx512f: the indirect microkernel (8 rows × 2 vectors of VecAvx512) and the epilogue.
#include "common/vec_avx512.h"
#include "kernels/f32-conv/epilogue.h"
#include "kernels/f32-conv/igemm.h"

namespace simdtensor {

const F32ConvVariant f32_conv_8x32__avx512f = {"f32_conv_8x32__avx512f", Isa::kAvx512, 8, 32, &f32_igemm_ukernel<VecAvx512, 8, 2>,
                                          &ConvEpilogueImpl<VecAvx512>::run};

}  // namespace simdtensor
