// f32 training variant for avx2: train.h over VecAvx2 (whose sqrt the optimizer steps use).
#include "common/vec_avx2.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {

const F32TrainVariant f32_train__avx2 = Train<VecAvx2>::make("f32_train__avx2", Isa::kAvx2);

}  // namespace simdtensor
