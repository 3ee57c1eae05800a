// f32 resize variant for avx512f (VecAvx512).
#include "common/vec_avx512.h"
#include "kernels/f32-resize/resize.h"

namespace simdtensor {

const F32ResizeVariant f32_resize__avx512f = Resize<VecAvx512>::make("f32_resize__avx512f", Isa::kAvx512);

}  // namespace simdtensor
