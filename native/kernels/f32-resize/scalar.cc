// f32 resize variant for scalar (VecScalar), the variant list and its selection.
#include "common/vec_scalar.h"
#include "kernels/f32-resize/resize.h"

namespace simdtensor {

const F32ResizeVariant f32_resize__scalar = Resize<VecScalar>::make("f32_resize__scalar", Isa::kScalar);

}  // namespace simdtensor

namespace simdtensor {
namespace {
const F32ResizeVariant* const kF32Resize[] = {
#define ST_F32_RESIZE(sym, isa) &sym,
#include "kernels/f32-resize/kernels.inc"
#undef ST_F32_RESIZE
};
}  // namespace

const F32ResizeVariant* const* f32_resize_variants(size_t* count) {
  *count = sizeof(kF32Resize) / sizeof(kF32Resize[0]);
  return kF32Resize;
}

const F32ResizeVariant& f32_resize_select() {
  for (const auto* v : kF32Resize)
    if (isa_allowed(v->isa)) return *v;
  return f32_resize__scalar;
}

}  // namespace simdtensor
