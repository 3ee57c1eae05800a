// Per-channel quantization parameters over arrays of channels: choosing them from min/max, and checking given
// ones. Plain C++ (no N-API), any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace simdtensor {

// scales[c], zeros[c] = quant_choose_params(mins[c], maxs[c], is_unsigned, symmetric) for c < n.
void quant_choose_params_n(size_t n, const float* mins, const float* maxs, bool is_unsigned, bool symmetric,
                           float* scales, int32_t* zeros);

// "" if every scale is positive and finite and every zero point lies in [qmin, qmax]; else what is wrong with the
// first bad channel ("scale[3] must be a positive finite number, got 0.000000").
std::string quant_check_params(size_t n, const float* scales, const int32_t* zeros, int32_t qmin, int32_t qmax);

}  // namespace simdtensor
