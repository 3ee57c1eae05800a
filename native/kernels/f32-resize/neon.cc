// f32 resize variant for neon (VecNeon).
#include "common/vec_neon.h"
#include "kernels/f32-resize/resize.h"

namespace simdtensor {

const F32ResizeVariant f32_resize__neon = Resize<VecNeon>::make("f32_resize__neon", Isa::kNeon);

}  // namespace simdtensor
