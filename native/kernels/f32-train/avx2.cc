// f32 training variant for avx2 (VecAvx2 plus a square root).
#include "common/vec_avx2.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {
namespace {
struct VecTrainAvx2 : VecAvx2 {
  static R sqrt(R a) { return _mm256_sqrt_ps(a); }
};
}  // namespace

const F32TrainVariant f32_train__avx2 = Train<VecTrainAvx2>::make("f32_train__avx2", Isa::kAvx2);

}  // namespace simdtensor
