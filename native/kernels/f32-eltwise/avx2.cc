// f32 elementwise variant for avx2 (VecAvx2).
#include "common/vec_avx2.h"
#include "kernels/f32-eltwise/eltwise.h"

namespace simdtensor {

const F32EltwiseVariant f32_eltwise__avx2 = Eltwise<VecAvx2>::make("f32_eltwise__avx2", Isa::kAvx2);

}  // namespace simdtensor
