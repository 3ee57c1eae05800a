// f32 conv epilogue variant for avx2 (VecAvx2).
#include "common/vec_avx2.h"
#include "kernels/f32-conv/epilogue.h"

namespace simdtensor {

const F32ConvVariant f32_conv__avx2 = {"f32_conv__avx2", Isa::kAvx2, &ConvEpilogueImpl<VecAvx2>::run};

}  // namespace simdtensor
