// f32 depthwise conv variant for avx512f (VecAvx512, 4-pixel register tiles).
#include "common/vec_avx512.h"
#include "kernels/f32-dwconv/dwconv.h"

namespace simdtensor {

const F32DwconvVariant f32_dwconv__avx512f = Dwconv<VecAvx512, 4>::make("f32_dwconv__avx512f", Isa::kAvx512);

}  // namespace simdtensor
