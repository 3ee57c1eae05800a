// Tensor-level quantization over a channel axis.
#include "runtime/int8/quantize.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"

namespace simdtensor {

namespace {
// Splits `rows` units of `row_len` elements into tasks of about 64 Ki elements each.
size_t task_rows(size_t rows, size_t row_len) {
  const size_t per = std::max<size_t>(1, (size_t(1) << 16) / std::max<size_t>(row_len, 1));
  return std::min(rows, per);
}
}  // namespace

void quantize_tensor(const QuantizeVariant& qv, const QuantTensorShape& s, const float* x, const float* scales,
                     const int32_t* zeros, int32_t qmin, int32_t qmax, uint8_t* out) {
  if (s.size() == 0) return;
  std::vector<float> inv(s.channels);
  for (size_t c = 0; c < s.channels; c++) inv[c] = 1.0f / scales[c];
  if (s.inner == 1 && s.channels > 1) {
    // The channel is the innermost axis: per-element parameters along each row of `channels` values.
    const size_t per = task_rows(s.outer, s.channels);
    parallel_for((s.outer + per - 1) / per, [&](size_t t) {
      for (size_t o = t * per; o < std::min(s.outer, (t + 1) * per); o++)
        qv.quantize_channels(s.channels, x + o * s.channels, inv.data(), zeros, qmin, qmax, out + o * s.channels);
    });
    return;
  }
  const size_t rows = s.outer * s.channels, per = task_rows(rows, s.inner);
  parallel_for((rows + per - 1) / per, [&](size_t t) {
    for (size_t r = t * per; r < std::min(rows, (t + 1) * per); r++) {
      const size_t c = r % s.channels;
      qv.quantize(s.inner, x + r * s.inner, inv[c], zeros[c], qmin, qmax, out + r * s.inner);
    }
  });
}

void dequantize_tensor(const QuantizeVariant& qv, const QuantTensorShape& s, const uint8_t* q, bool is_unsigned,
                       const float* scales, const int32_t* zeros, float* out) {
  if (s.size() == 0) return;
  if (s.inner == 1 && s.channels > 1) {
    const size_t per = task_rows(s.outer, s.channels);
    parallel_for((s.outer + per - 1) / per, [&](size_t t) {
      for (size_t o = t * per; o < std::min(s.outer, (t + 1) * per); o++)
        qv.dequantize_channels(s.channels, q + o * s.channels, is_unsigned, scales, zeros, out + o * s.channels);
    });
    return;
  }
  const size_t rows = s.outer * s.channels, per = task_rows(rows, s.inner);
  parallel_for((rows + per - 1) / per, [&](size_t t) {
    for (size_t r = t * per; r < std::min(rows, (t + 1) * per); r++) {
      const size_t c = r % s.channels;
      qv.dequantize(s.inner, q + r * s.inner, is_unsigned, scales[c], zeros[c], out + r * s.inner);
    }
  });
}

bool minmax_tensor(const QuantizeVariant& qv, const QuantTensorShape& s, const float* x, float* mins, float* maxs) {
  for (size_t c = 0; c < s.channels; c++) {
    mins[c] = HUGE_VALF;
    maxs[c] = -HUGE_VALF;
  }
  if (s.size() == 0) return false;  // no values (outer is unchecked when channels · inner is 0: never loop over it)
  bool nan = false;
  if (s.inner == 1 && s.channels > 1) {
    // Strided channels: one pass in plain code (rare layout: a channel axis that is the last one).
    for (size_t o = 0; o < s.outer; o++)
      for (size_t c = 0; c < s.channels; c++) {
        const float v = x[o * s.channels + c];
        if (v != v) {
          nan = true;
          continue;
        }
        mins[c] = std::min(mins[c], v);
        maxs[c] = std::max(maxs[c], v);
      }
    return nan;
  }
  for (size_t o = 0; o < s.outer; o++)
    for (size_t c = 0; c < s.channels; c++) {
      float mn, mx;
      nan |= qv.minmax(s.inner, x + (o * s.channels + c) * s.inner, &mn, &mx);
      mins[c] = std::min(mins[c], mn);
      maxs[c] = std::max(maxs[c], mx);
    }
  return nan;
}

}  // namespace simdtensor
