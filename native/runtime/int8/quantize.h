// Tensor-level quantization over a channel axis: the tensor is viewed as [outer, channels, inner] (channels = 1
// for per-tensor parameters) and each slice runs the quantize family's kernels. Plain C++, any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/quantize/quantize.h"

namespace simdtensor {

struct QuantTensorShape {
  size_t outer, channels, inner;
  size_t size() const { return outer * channels * inner; }
};

// out = quantize(x) with scales[c] / zeros[c] of channel c, clamped to [qmin, qmax].
void quantize_tensor(const QuantizeVariant& qv, const QuantTensorShape& s, const float* x, const float* scales,
                     const int32_t* zeros, int32_t qmin, int32_t qmax, uint8_t* out);
// out = dequantize(q) (q signed or unsigned bytes).
void dequantize_tensor(const QuantizeVariant& qv, const QuantTensorShape& s, const uint8_t* q, bool is_unsigned,
                       const float* scales, const int32_t* zeros, float* out);
// Per-channel min and max over non-NaN values (mins/maxs have `channels` entries). Returns true if a NaN was seen.
bool minmax_tensor(const QuantizeVariant& qv, const QuantTensorShape& s, const float* x, float* mins, float* maxs);

}  // namespace simdtensor
