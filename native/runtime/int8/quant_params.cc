// Per-channel quantization parameters over arrays of channels (see quant_params.h).
#include "runtime/int8/quant_params.h"

#include "kernels/quantize/quantize.h"

namespace simdtensor {

void quant_choose_params_n(size_t n, const float* mins, const float* maxs, bool is_unsigned, bool symmetric,
                           float* scales, int32_t* zeros) {
  for (size_t i = 0; i < n; i++) {
    const QuantParams p = quant_choose_params(mins[i], maxs[i], is_unsigned, symmetric);
    scales[i] = p.scale;
    zeros[i] = p.zero;
  }
}

std::string quant_check_params(size_t n, const float* scales, const int32_t* zeros, int32_t qmin, int32_t qmax) {
  for (size_t c = 0; c < n; c++) {
    if (!(scales[c] > 0) || !(scales[c] < 3.4e38f))
      return "scale[" + std::to_string(c) + "] must be a positive finite number, got " + std::to_string(scales[c]);
    if (zeros[c] < qmin || zeros[c] > qmax)
      return "zeroPoint[" + std::to_string(c) + "] (" + std::to_string(zeros[c]) + ") is outside [" +
             std::to_string(qmin) + ", " + std::to_string(qmax) + "]";
  }
  return "";
}

}  // namespace simdtensor
