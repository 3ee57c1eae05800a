// f32 training variant for avx512f: train.h over VecAvx512 (whose sqrt the optimizer steps use).
#include "common/vec_avx512.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {

const F32TrainVariant f32_train__avx512f = Train<VecAvx512>::make("f32_train__avx512f", Isa::kAvx512);

}  // namespace simdtensor
