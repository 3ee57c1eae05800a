// f32 elementwise variant for avx512f (VecAvx512).
#include "common/vec_avx512.h"
#include "kernels/f32-eltwise/eltwise.h"

namespace simdtensor {

const F32EltwiseVariant f32_eltwise__avx512f = Eltwise<VecAvx512>::make("f32_eltwise__avx512f", Isa::kAvx512);

}  // namespace simdtensor
