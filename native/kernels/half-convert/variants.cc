// The half conversion variant table (from kernels.inc) and the per-direction choice under the ISA cap.
#include "kernels/half-convert/half-convert.h"

namespace simdtensor {
namespace {
const HalfCvtVariant kHalfCvt[] = {
#define ST_HALF_CVT(sym, isa, kind) {#sym, Isa::isa, HalfCvtKind::kind, &sym},
#include "kernels/half-convert/kernels.inc"
#undef ST_HALF_CVT
};
constexpr size_t kHalfCvtCount = sizeof(kHalfCvt) / sizeof(kHalfCvt[0]);
}  // namespace

const HalfCvtVariant* half_cvt_variants(size_t* count) {
  *count = kHalfCvtCount;
  return kHalfCvt;
}

const HalfCvtVariant& half_cvt_select(HalfCvtKind kind) {
  const HalfCvtVariant* last = nullptr;
  for (const auto& v : kHalfCvt) {
    if (v.kind != kind) continue;
    if (isa_allowed(v.isa)) return v;
    last = &v;
  }
  return *last;  // the scalar entry of this direction (always allowed, so not reached in practice)
}

}  // namespace simdtensor
