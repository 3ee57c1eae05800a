// Fills the variant lists from each family's kernels.inc and picks, per call, the best one the cap allows.
// The cap is an atomic int read per call (one relaxed load), so setMaxIsa() takes effect immediately.
#include "cpu/dispatch.h"

#include <cstring>
#include <mutex>
#include <vector>

namespace simdtensor {

namespace {
const F32GemmVariant kF32Gemm[] = {
#define ST_F32_GEMM(sym, isa, mr, nr) {#sym, Isa::isa, mr, nr, &sym},
#include "kernels/f32-gemm/kernels.inc"
#undef ST_F32_GEMM
};
const F32EltwiseVariant* const kF32Eltwise[] = {
#define ST_F32_ELTWISE(sym, isa) &sym,
#include "kernels/f32-eltwise/kernels.inc"
#undef ST_F32_ELTWISE
};

std::mutex& reporters_mu() {
  static std::mutex m;
  return m;
}
std::vector<OpKernelReporter>& reporters() {
  static std::vector<OpKernelReporter> r;
  return r;
}
}  // namespace

const F32GemmVariant* f32_gemm_variants(size_t* count) {
  *count = sizeof(kF32Gemm) / sizeof(kF32Gemm[0]);
  return kF32Gemm;
}
const F32EltwiseVariant* const* f32_eltwise_variants(size_t* count) {
  *count = sizeof(kF32Eltwise) / sizeof(kF32Eltwise[0]);
  return kF32Eltwise;
}

const F32GemmVariant& f32_gemm_select() {
  for (const auto& v : kF32Gemm)
    if (isa_allowed(v.isa)) return v;
  return kF32Gemm[sizeof(kF32Gemm) / sizeof(kF32Gemm[0]) - 1];
}
const F32GemmVariant* f32_gemm_find(const char* name) {
  for (const auto& v : kF32Gemm)
    if (std::strcmp(v.name, name) == 0) return &v;
  return nullptr;
}
const F32EltwiseVariant& f32_eltwise_select() {
  for (const auto* v : kF32Eltwise)
    if (isa_allowed(v->isa)) return *v;
  return *kF32Eltwise[sizeof(kF32Eltwise) / sizeof(kF32Eltwise[0]) - 1];
}

void register_op_reporter(OpKernelReporter fn) {
  std::lock_guard<std::mutex> lock(reporters_mu());
  for (auto r : reporters())
    if (r == fn) return;
  reporters().push_back(fn);
}

size_t op_kernels(OpKernel* out, size_t cap) {
  size_t n = 0;
  auto add = [&](const char* op, const char* k) {
    if (n < cap) out[n] = {op, k};
    n++;
  };
  add("matmul.f32", f32_gemm_select().name);
  const char* e = f32_eltwise_select().name;
  for (const char* op : {"add", "mul", "relu", "gelu", "softmax", "logSoftmax", "layerNorm"}) add(op, e);
  std::lock_guard<std::mutex> lock(reporters_mu());
  for (auto r : reporters()) n += r(n < cap ? out + n : nullptr, n < cap ? cap - n : 0);
  return n;
}

}  // namespace simdtensor
