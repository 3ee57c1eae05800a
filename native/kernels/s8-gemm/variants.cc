// The int8 GEMM variant table (from kernels.inc, best first) and the choice under the current ISA cap.
#include <cstring>
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {

namespace {
const S8GemmVariant kS8Gemm[] = {
#define ST_S8_GEMM(sym, isa, mr, nr, kgroup, kstep, a_signed, layout, begin, end) \
  {#sym, Isa::isa, mr, nr, kgroup, kstep, a_signed, layout, &sym, begin, end},
#include "kernels/s8-gemm/kernels.inc"
#undef ST_S8_GEMM
};
constexpr size_t kS8GemmCount = sizeof(kS8Gemm) / sizeof(kS8Gemm[0]);
}  // namespace

const S8GemmVariant* s8_gemm_variants(size_t* count) {
  *count = kS8GemmCount;
  return kS8Gemm;
}

const S8GemmVariant& s8_gemm_select() {
  for (const auto& v : kS8Gemm)
    if (isa_allowed(v.isa)) return v;
  return kS8Gemm[kS8GemmCount - 1];
}

const S8GemmVariant* s8_gemm_find(const char* name) {
  for (const auto& v : kS8Gemm)
    if (std::strcmp(v.name, name) == 0) return &v;
  return nullptr;
}

}  // namespace simdtensor
