// ONNX runtime helpers: DynamicQuantizeLinear with onnxruntime's arithmetic, 4-byte N-d transpose.
#include "runtime/onnx_ops.h"

// GCC will not if-convert float compares while FP traps are considered observable (its default), which keeps the
// clamps below scalar; no value changes without traps. Clang's default already allows it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <algorithm>
#include <cstring>

namespace simdtensor {

namespace {
// Round half to even for |v| < 2^22 under the default rounding mode (no -ffast-math in this build, so the
// compiler keeps the add/sub pair); vectorizes on any SSE2/NEON target, unlike nearbyintf.
inline float rne_small(float v) {
  const float magic = 12582912.0f;  // 1.5 · 2^23
  return (v + magic) - magic;
}
}  // namespace

void onnx_dynamic_quantize_u8(const float* x, size_t n, uint8_t* out, float* scale_out, int32_t* zero_out) {
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

void onnx_transpose_4b(const uint32_t* x, uint32_t* out, const size_t* shape, const size_t* xstride, size_t rank) {
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  size_t total = 1;
  for (size_t d = 0; d < rank; d++) total *= shape[d];
  if (total == 0) return;
  const size_t inner = shape[rank - 1], is = xstride[rank - 1];
  size_t idx[8] = {0};
  size_t off = 0;
  for (size_t o = 0; o < total; o += inner) {
    if (is == 1) {
      std::memcpy(out + o, x + off, inner * sizeof(uint32_t));
    } else {
      const uint32_t* src = x + off;
      for (size_t t = 0; t < inner; t++) out[o + t] = src[t * is];
    }
    for (size_t d = rank - 1; d-- > 0;) {
      idx[d]++;
      off += xstride[d];
      if (idx[d] < shape[d]) break;
      off -= xstride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

}  // namespace simdtensor
