// f32 training variant for neon: train.h over VecNeon (whose sqrt the optimizer steps use).
#include "common/vec_neon.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {

const F32TrainVariant f32_train__neon = Train<VecNeon>::make("f32_train__neon", Isa::kNeon);

}  // namespace simdtensor
