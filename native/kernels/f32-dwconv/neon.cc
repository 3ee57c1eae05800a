// f32 depthwise conv variant for neon (VecNeon, 4-pixel register tiles).
#include "common/vec_neon.h"
#include "kernels/f32-dwconv/dwconv.h"

namespace simdtensor {

const F32DwconvVariant f32_dwconv__neon = Dwconv<VecNeon, 4>::make("f32_dwconv__neon", Isa::kNeon);

}  // namespace simdtensor
