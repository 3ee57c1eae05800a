// f32 resize variant for avx2 (VecAvx2).
#include "common/vec_avx2.h"
#include "kernels/f32-resize/resize.h"

namespace simdtensor {

const F32ResizeVariant f32_resize__avx2 = Resize<VecAvx2>::make("f32_resize__avx2", Isa::kAvx2);

}  // namespace simdtensor
