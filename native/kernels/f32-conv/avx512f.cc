// f32 conv variant f32_conv_8x32__avx512f: the indirect microkernel (8 rows × 2 vectors of VecAvx512) and the epilogue.
#include "common/vec_avx512.h"
#include "kernels/f32-conv/epilogue.h"
#include "kernels/f32-conv/igemm.h"

namespace simdtensor {

const F32ConvVariant f32_conv_8x32__avx512f = {"f32_conv_8x32__avx512f", Isa::kAvx512, 8, 32, &f32_igemm_ukernel<VecAvx512, 8, 2>,
                                          &ConvEpilogueImpl<VecAvx512>::run};

// The narrow-panel variant for thin layers (<= 16 output channels a group): one vector of columns, 14 rows, so a
// 16-channel layer fills every lane it computes (the 8×32 tile would run half empty). 14 accumulators + 1 B vector
// + broadcasts fit the 32 registers; per step 1 B load and 14 broadcast loads feed 14 FMAs.
const F32ConvVariant f32_conv_14x16__avx512f = {"f32_conv_14x16__avx512f", Isa::kAvx512, 14, 16,
                                                &f32_igemm_ukernel<VecAvx512, 14, 1>, &ConvEpilogueImpl<VecAvx512>::run};

}  // namespace simdtensor
