// Scalar reference for int8 GEMM: the true values (a - za)(b - zb) summed in int64, then the same epilogue rules
// written plainly. Tests compare every variant (and its packing and domain tricks) with it.
#include <cmath>
#include "kernels/f32-conv-common/activation.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {

int32_t s8_requant_reference(float y, float inv_scale, float lo, float hi) {
  float v = y * inv_scale;
  if (v != v) v = 0.0f;
  v = v < lo ? lo : (v > hi ? hi : v);
  return int32_t(std::nearbyint(v));
}

void s8_gemm_reference(const S8RefArgs& r) {
  const uint8_t* a = static_cast<const uint8_t*>(r.a);
  const uint8_t* b = static_cast<const uint8_t*>(r.b);
  auto av = [&](size_t i, size_t p) -> int64_t {
    const uint8_t x = a[i * r.lda + p];
    return r.a_unsigned ? int64_t(x) : int64_t(int8_t(x));
  };
  auto bv = [&](size_t p, size_t j) -> int64_t {
    const uint8_t x = r.trans_b ? b[j * r.ldb + p] : b[p * r.ldb + j];
    return r.b_unsigned ? int64_t(x) : int64_t(int8_t(x));
  };
  const bool bytes_out = r.out == kS8OutS8 || r.out == kS8OutU8;
  const int32_t qmin = r.out == kS8OutS8 ? -128 : 0, qmax = r.out == kS8OutS8 ? 127 : 255;
  const float inv = 1.0f / r.out_scale;
  for (size_t i = 0; i < r.m; i++)
    for (size_t j = 0; j < r.n; j++) {
      const int64_t za = r.za ? r.za[i * r.za_stride] : 0, zb = r.zb ? r.zb[j * r.zb_stride] : 0;
      int64_t s = 0;
      for (size_t p = 0; p < r.k; p++) s += (av(i, p) - za) * (bv(p, j) - zb);
      const int32_t v = int32_t(uint32_t(uint64_t(s)));  // wraps like the kernels (documented limit on K)
      if (r.out == kS8OutI32) {
        static_cast<int32_t*>(r.c)[i * r.ldc + j] = v;
        continue;
      }
      const float sc = r.sa[i * r.sa_stride] * r.sb[j * r.sb_stride];
      float y = r.bias ? std::fma(float(v), sc, r.bias[j]) : float(v) * sc;
      y = r.act <= kActGelu ? f32_activation_reference(y, r.act) : conv_act_reference(y, ConvAct{r.act, r.act_a, r.act_b});
      if (!bytes_out) {
        static_cast<float*>(r.c)[i * r.ldc + j] = y;
        continue;
      }
      const int32_t q = s8_requant_reference(y, inv, float(qmin - r.out_zero), float(qmax - r.out_zero)) + r.out_zero;
      static_cast<uint8_t*>(r.c)[i * r.ldc + j] = uint8_t(q);
    }
}

}  // namespace simdtensor
