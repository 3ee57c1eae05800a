// f32 training variant for scalar: train.h over VecScalar (whose sqrt the optimizer steps use).
#include "common/vec_scalar.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {

const F32TrainVariant f32_train__scalar = Train<VecScalar>::make("f32_train__scalar", Isa::kScalar);

}  // namespace simdtensor
