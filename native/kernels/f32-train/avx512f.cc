// f32 training variant for avx512f (VecAvx512 plus a square root).
#include "common/vec_avx512.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {
namespace {
struct VecTrainAvx512 : VecAvx512 {
  static R sqrt(R a) { return _mm512_sqrt_ps(a); }
};
}  // namespace

const F32TrainVariant f32_train__avx512f = Train<VecTrainAvx512>::make("f32_train__avx512f", Isa::kAvx512);

}  // namespace simdtensor
