// f32 training variant for neon (VecNeon plus a square root).
#include "common/vec_neon.h"
#include "kernels/f32-train/train.h"

namespace simdtensor {
namespace {
struct VecTrainNeon : VecNeon {
  static R sqrt(R a) { return vsqrtq_f32(a); }
};
}  // namespace

const F32TrainVariant f32_train__neon = Train<VecTrainNeon>::make("f32_train__neon", Isa::kNeon);

}  // namespace simdtensor
