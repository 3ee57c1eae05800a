// f32 conv variant f32_conv_6x16__avx2: the indirect microkernel (6 rows × 2 vectors of VecAvx2) and the epilogue.
#include "common/vec_avx2.h"
#include "kernels/f32-conv/epilogue.h"
#include "kernels/f32-conv/igemm.h"

namespace simdtensor {

const F32ConvVariant f32_conv_6x16__avx2 = {"f32_conv_6x16__avx2", Isa::kAvx2, 6, 16, &f32_igemm_ukernel<VecAvx2, 6, 2>,
                                          &ConvEpilogueImpl<VecAvx2>::run};

}  // namespace simdtensor
