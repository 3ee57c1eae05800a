// The f32 conv epilogue variant table (from kernels.inc, best first) and the choice under the current ISA cap.
#include "kernels/f32-conv/f32-conv.h"

namespace simdtensor {

namespace {
const F32ConvVariant* const kF32Conv[] = {
#define ST_F32_CONV(sym, isa, mr, nr) &sym,
#include "kernels/f32-conv/kernels.inc"
#undef ST_F32_CONV
};
constexpr size_t kF32ConvCount = sizeof(kF32Conv) / sizeof(kF32Conv[0]);
}  // namespace

const F32ConvVariant* const* f32_conv_variants(size_t* count) {
  *count = kF32ConvCount;
  return kF32Conv;
}

const F32ConvVariant& f32_conv_select() {
  for (const auto* v : kF32Conv)
    if (isa_allowed(v->isa)) return *v;
  return *kF32Conv[kF32ConvCount - 1];
}

}  // namespace simdtensor
