// f32 conv epilogue variant for scalar (VecScalar).
#include "common/vec_scalar.h"
#include "kernels/f32-conv/epilogue.h"

namespace simdtensor {

const F32ConvVariant f32_conv__scalar = {"f32_conv__scalar", Isa::kScalar, &ConvEpilogueImpl<VecScalar>::run};

}  // namespace simdtensor
