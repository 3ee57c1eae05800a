// f32 resize variant for scalar (VecScalar).
#include "common/vec_scalar.h"
#include "kernels/f32-resize/resize.h"

namespace simdtensor {

const F32ResizeVariant f32_resize__scalar = Resize<VecScalar>::make("f32_resize__scalar", Isa::kScalar);

}  // namespace simdtensor

namespace simdtensor {

}  // namespace simdtensor
