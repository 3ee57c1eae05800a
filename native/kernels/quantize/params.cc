// The plain quantize reference, the choice of scale / zero point and the calibration
// histogram. Built without ISA flags: these scalar rules are the single definition every ISA path shares.
#include <cmath>
#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {

namespace {
void ref_quantize(size_t n, const float* x, float inv_scale, int32_t zero, int32_t qmin, int32_t qmax, uint8_t* out) {
  for (size_t i = 0; i < n; i++)
    out[i] = uint8_t(uint32_t(s8_requant_reference(x[i], inv_scale, float(qmin - zero), float(qmax - zero)) + zero));
}
void ref_quantize_channels(size_t n, const float* x, const float* inv_scales, const int32_t* zeros, int32_t qmin,
                           int32_t qmax, uint8_t* out) {
  for (size_t i = 0; i < n; i++)
    out[i] = uint8_t(uint32_t(
        s8_requant_reference(x[i], inv_scales[i], float(qmin - zeros[i]), float(qmax - zeros[i])) + zeros[i]));
}
int32_t qvalue(const uint8_t* q, bool is_unsigned, size_t i) { return is_unsigned ? int32_t(q[i]) : int32_t(int8_t(q[i])); }
void ref_dequantize(size_t n, const uint8_t* q, bool is_unsigned, float scale, int32_t zero, float* out) {
  for (size_t i = 0; i < n; i++) out[i] = float(qvalue(q, is_unsigned, i) - zero) * scale;
}
void ref_dequantize_channels(size_t n, const uint8_t* q, bool is_unsigned, const float* scales, const int32_t* zeros,
                             float* out) {
  for (size_t i = 0; i < n; i++) out[i] = float(qvalue(q, is_unsigned, i) - zeros[i]) * scales[i];
}
bool ref_minmax(size_t n, const float* x, float* mn, float* mx) {
  float lo = HUGE_VALF, hi = -HUGE_VALF;
  bool nan = false;
  for (size_t i = 0; i < n; i++) {
    if (std::isnan(x[i])) {
      nan = true;
      continue;
    }
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  *mn = lo;
  *mx = hi;
  return nan;
}
// One row at a time: its min/max, its parameters, its bytes (the rule quantize_rows_impl blocks).
void ref_quantize_rows(size_t m, size_t k, const float* x, size_t ldx, bool is_unsigned, uint8_t* out, size_t ldo,
                       float* scales, int32_t* zeros, uint8_t* bad_row) {
  const bool symmetric = !is_unsigned;
  int32_t qmin, qmax;
  quant_range(is_unsigned, symmetric, &qmin, &qmax);
  for (size_t i = 0; i < m; i++) {
    const float* xr = x + i * ldx;
    float mn = 0.0f, mx = 0.0f;
    const bool nan = k > 0 && ref_minmax(k, xr, &mn, &mx);
    const bool bad = nan || std::isinf(mn) || std::isinf(mx);
    const QuantParams p = bad ? QuantParams{1.0f, 0} : quant_choose_params(mn, mx, is_unsigned, symmetric);
    if (bad) {
      for (size_t j = 0; j < k; j++) out[i * ldo + j] = uint8_t(p.zero);
    } else {
      ref_quantize(k, xr, 1.0f / p.scale, p.zero, qmin, qmax, out + i * ldo);
    }
    scales[i] = bad ? NAN : p.scale;
    zeros[i] = p.zero;
    bad_row[i] = bad ? 1 : 0;
  }
}
}  // namespace

const QuantizeVariant quantize_reference{"quantize_reference", Isa::kScalar,   &ref_quantize,
                                         &ref_quantize_channels, &ref_dequantize, &ref_dequantize_channels,
                                         &ref_minmax, &ref_quantize_rows};

void quant_range(bool is_unsigned, bool symmetric, int32_t* qmin, int32_t* qmax) {
  if (symmetric) {
    *qmin = is_unsigned ? 1 : -127;
    *qmax = is_unsigned ? 255 : 127;
  } else {
    *qmin = is_unsigned ? 0 : -128;
    *qmax = is_unsigned ? 255 : 127;
  }
}

QuantParams quant_choose_params(float mn, float mx, bool is_unsigned, bool symmetric) {
  int32_t qmin, qmax;
  quant_range(is_unsigned, symmetric, &qmin, &qmax);
  if (symmetric) {
    const float amax = std::fmax(std::fabs(mn), std::fabs(mx));
    const int32_t zero = is_unsigned ? 128 : 0;
    if (!(amax > 0.0f)) return {1.0f, zero};
    return {std::fmax(amax / 127.0f, kQuantMinScale), zero};
  }
  const float lo = std::fmin(mn, 0.0f), hi = std::fmax(mx, 0.0f);
  if (!(hi > lo)) return {1.0f, 0};  // all zeros: 0 is exactly representable with zero point 0
  const float scale = std::fmax((hi - lo) / float(qmax - qmin), kQuantMinScale);
  float z = float(qmin) - std::nearbyint(lo / scale);
  z = z < float(qmin) ? float(qmin) : (z > float(qmax) ? float(qmax) : z);
  return {scale, int32_t(z)};
}

void quant_histogram(size_t n, const float* x, float lo, float hi, size_t bins, double* counts) {
  if (bins == 0) return;
  const double width = (double(hi) - double(lo)) / double(bins);
  const double inv = width > 0 ? 1.0 / width : 0.0;
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    if (v != v) continue;
    double b = (double(v) - double(lo)) * inv;
    size_t idx = b <= 0 ? 0 : (b >= double(bins - 1) ? bins - 1 : size_t(b));
    counts[idx] += 1.0;
  }
}

}  // namespace simdtensor
