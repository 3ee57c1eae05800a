// f32 training variant for scalar (VecScalar plus a square root).
#include <cmath>
#include "common/vec_scalar.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {
namespace {
struct VecTrainScalar : VecScalar {
  static R sqrt(R a) { return std::sqrt(a); }
};
}  // namespace

const F32TrainVariant f32_train__scalar = Train<VecTrainScalar>::make("f32_train__scalar", Isa::kScalar);

}  // namespace simdtensor
