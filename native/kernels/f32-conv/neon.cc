// f32 conv epilogue variant for neon (VecNeon).
#include "common/vec_neon.h"
#include "kernels/f32-conv/epilogue.h"

namespace simdtensor {

const F32ConvVariant f32_conv__neon = {"f32_conv__neon", Isa::kNeon, &ConvEpilogueImpl<VecNeon>::run};

}  // namespace simdtensor
