// f32 training variant for scalar (VecScalar plus a square root), and the variant list with its selection.
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

namespace {
const F32TrainVariant* const kF32Train[] = {
#define ST_F32_TRAIN(sym, isa) &sym,
#include "kernels/f32-train/kernels.inc"
#undef ST_F32_TRAIN
};
}  // namespace

const F32TrainVariant* const* f32_train_variants(size_t* count) {
  *count = sizeof(kF32Train) / sizeof(kF32Train[0]);
  return kF32Train;
}

const F32TrainVariant& f32_train_select() {
  for (const auto* v : kF32Train)
    if (isa_allowed(v->isa)) return *v;
  return f32_train__scalar;
}

}  // namespace simdtensor
