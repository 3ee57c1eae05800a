// f32 conv epilogue variant for avx512f (VecAvx512).
#include "common/vec_avx512.h"
#include "kernels/f32-conv/epilogue.h"

namespace simdtensor {

const F32ConvVariant f32_conv__avx512f = {"f32_conv__avx512f", Isa::kAvx512, &ConvEpilogueImpl<VecAvx512>::run};

}  // namespace simdtensor
