// The DynamicQuantizeLinear loop, compiled once per ISA group (ops.cc baseline, ops_avx2.cc AVX2):
// the same source, so every build computes the same bits. Include after `#pragma GCC optimize("no-trapping-math")`.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace simdtensor {
namespace onnx_detail {

// Round half to even for |v| < 2^22 under the default rounding mode (no -ffast-math in this build, so the
// compiler keeps the add/sub pair); vectorizes on any SSE2/NEON target, unlike nearbyintf.
inline float rne_small(float v) {
  const float magic = 12582912.0f;  // 1.5 · 2^23
  return (v + magic) - magic;
}

inline void dynamic_quantize_u8(const float* x, size_t n, uint8_t* out, float* scale_out, int32_t* zero_out) {
  // Range: 8 independent lanes (branch-free selects the compiler vectorizes), then folded. `v < m ? v : m` keeps m
  // when v is NaN, so NaN elements do not widen the range.
  constexpr size_t L = 8;
  float mnv[L] = {0}, mxv[L] = {0};
  size_t i = 0;
  for (; i + L <= n; i += L)
    for (size_t l = 0; l < L; l++) {
      const float v = x[i + l];
      mnv[l] = v < mnv[l] ? v : mnv[l];
      mxv[l] = v > mxv[l] ? v : mxv[l];
    }
  for (; i < n; i++) {
    const float v = x[i];
    mnv[0] = v < mnv[0] ? v : mnv[0];
    mxv[0] = v > mxv[0] ? v : mxv[0];
  }
  float mn = 0.0f, mx = 0.0f;
  for (size_t l = 0; l < L; l++) {
    mn = mnv[l] < mn ? mnv[l] : mn;
    mx = mxv[l] > mx ? mxv[l] : mx;
  }
  const float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  const float z0 = 0.0f - mn / scale;
  const float zc = std::max(0.0f, std::min(255.0f, z0));
  const float zp = rne_small(zc);
  for (size_t j = 0; j < n; j++) {
    float v = x[j] / scale;
    v = v > -512.0f ? v : -512.0f;  // NaN → -512, which saturates to 0
    v = v < 512.0f ? v : 512.0f;
    float q = rne_small(v) + zp;
    q = q > 0.0f ? q : 0.0f;
    q = q < 255.0f ? q : 255.0f;
    out[j] = uint8_t(int32_t(q));
  }
  *scale_out = scale;
  *zero_out = int32_t(zp);
}

}  // namespace onnx_detail
}  // namespace simdtensor
