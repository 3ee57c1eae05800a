// f32 elementwise variant for neon (VecNeon).
#include "common/vec_neon.h"
#include "kernels/f32-eltwise/eltwise.h"

namespace simdtensor {

const F32EltwiseVariant f32_eltwise__neon = Eltwise<VecNeon>::make("f32_eltwise__neon", Isa::kNeon);

}  // namespace simdtensor
