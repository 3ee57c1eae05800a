// f32 depthwise conv variant for avx2 (VecAvx2, 4-pixel register tiles).
#include "common/vec_avx2.h"
#include "kernels/f32-dwconv/dwconv.h"

namespace simdtensor {

const F32DwconvVariant f32_dwconv__avx2 = Dwconv<VecAvx2, 4>::make("f32_dwconv__avx2", Isa::kAvx2);

}  // namespace simdtensor
