// ONNX runtime helpers: DynamicQuantizeLinear with onnxruntime's arithmetic, 4-byte N-d transpose.
#include "runtime/onnx_ops.h"

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
  float mn = 0.0f, mx = 0.0f;
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  const float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  const float z0 = 0.0f - mn / scale;
  const float zc = std::max(0.0f, std::min(255.0f, z0));
  const float zp = rne_small(zc);
  for (size_t i = 0; i < n; i++) {
    float v = x[i] / scale;
    v = v == v ? v : 0.0f;
    v = std::min(std::max(v, -512.0f), 512.0f);
    float q = rne_small(v) + zp;
    q = std::min(std::max(q, 0.0f), 255.0f);
    out[i] = uint8_t(int32_t(q));
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
