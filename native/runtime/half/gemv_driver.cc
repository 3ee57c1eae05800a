// Small-M half driver: threads split the B panels (N); each task walks its panels once, MR rows at a time.
#include "runtime/half/gemv_driver.h"

#include <algorithm>
#include <cstdlib>

#include "kernels/half-convert/half-convert.h"
#include "runtime/core/aligned.h"
#include "runtime/core/gemm_partition.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<float> t_rows;
}  // namespace

// Read once; unset, empty or not a number: kHalfGemvMaxM.
size_t half_gemv_max_m() {
  static const char* s = std::getenv("SIMDTENSOR_HALF_SMALL_M");
  static char* end = nullptr;
  static const unsigned long x = s ? std::strtoul(s, &end, 10) : 0;
  static const size_t v = s && *s && !*end ? std::min<size_t>(x, kHalfGemvMaxM) : kHalfGemvMaxM;
  return v;
}

void half_gemv_run(const HalfGemvVariant& v, size_t kpad, const HalfGemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  const size_t nr = v.nr, mr = v.mr, m = g.m, k = g.k;
  const size_t kp = (k + kpad - 1) / kpad * kpad;
  const void* a = g.a;
  size_t lda = g.lda;
  if (v.a_type == ElemType::kF32 && g.a_type != ElemType::kF32 && k > 0) {
    // Half activations for a convert-then-FMA kernel: widened once (m·k values against the k·n weights streamed).
    float* w = t_rows.get(m * k);
    const auto* src = static_cast<const uint16_t*>(g.a);
    const HalfCvtVariant& cv =
        half_cvt_select(g.a_type == ElemType::kF16 ? HalfCvtKind::kF16ToF32 : HalfCvtKind::kBf16ToF32);
    for (size_t i = 0; i < m; i++) cv.fn(k, src + i * g.lda, w + i * k);
    a = w;
    lda = k;
  }
  const size_t esz = v.a_type == ElemType::kF32 ? 4 : 2;
  const size_t panels = (g.n + nr - 1) / nr;
  parallel_panels(panels, 2.0 * double(m) * double(g.n) * double(k), [&](size_t p) {
    const size_t j = p * nr, nv = std::min<size_t>(nr, g.n - j);
    const uint16_t* bp = g.b_panels + p * nr * kp;
    const float* bias = g.bias ? g.bias + j : nullptr;
    for (size_t i = 0; i < m; i += mr)
      v.ukernel(std::min(mr, m - i), nv, k, static_cast<const char*>(a) + i * lda * esz, lda, bp, g.c + i * g.ldc + j,
                g.ldc, bias, g.act);
  });
}

}  // namespace simdtensor
