// The half GEMM variant table (from kernels.inc), the per-call choice under the ISA cap, and the fp16 range guard.
#include <cstring>

#include "kernels/half-gemm/half-gemm.h"

namespace simdtensor {
namespace {
const HalfGemmVariant kHalfGemm[] = {
#define ST_HALF_GEMM(sym, isa, type, mr, nr, kr, ilv, kpad, apack, kblock) \
  {#sym, Isa::isa, ElemType::type, mr, {nr, kr, ilv, kpad}, HalfAPack::apack, kblock, &sym},
#include "kernels/half-gemm/kernels.inc"
#undef ST_HALF_GEMM
};
constexpr size_t kHalfGemmCount = sizeof(kHalfGemm) / sizeof(kHalfGemm[0]);
}  // namespace

const HalfGemmVariant* half_gemm_variants(size_t* count) {
  *count = kHalfGemmCount;
  return kHalfGemm;
}

const HalfGemmVariant* half_gemm_find(const char* name) {
  for (const auto& v : kHalfGemm)
    if (std::strcmp(v.name, name) == 0) return &v;
  return nullptr;
}

const HalfGemmVariant& half_gemm_select(ElemType b_type, ElemType a_type, bool range_ok) {
  const HalfGemmVariant* fallback = nullptr;
  for (const auto& v : kHalfGemm) {
    if (v.b_type != b_type) continue;
    if (v.a == HalfAPack::kF32 && v.isa == Isa::kScalar) fallback = &v;
    if (!isa_allowed(v.isa)) continue;
    if (v.a != HalfAPack::kF32 && a_type != b_type) continue;  // native kernels need A in B's format
    if (v.kblock > 0 && !range_ok) continue;
    return v;
  }
  return *fallback;  // the scalar convert-then-FMA variant of this type (always compiled, always allowed)
}

bool half_gemm_fp16_range_ok(size_t kblock, float amax, float bmax) {
  const double p = double(amax) * double(bmax);  // NaN or Inf fail both tests
  return p >= 1.0 / 256.0 && double(kblock) * p <= 32752.0;
}

}  // namespace simdtensor
