// f32 elementwise variant for scalar (VecScalar).
#include "common/vec_scalar.h"
#include "kernels/f32-eltwise/eltwise.h"

namespace simdtensor {

const F32EltwiseVariant f32_eltwise__scalar = Eltwise<VecScalar>::make("f32_eltwise__scalar", Isa::kScalar);

}  // namespace simdtensor
