// Quantization family: f32 → int8/uint8 (per tensor or per channel), back, min/max, and the choice of scale
// and zero point. One rounding rule everywhere (see docs/int8.md):
//   q = clamp(rne(x · inv_scale), qmin - zero, qmax - zero) + zero, with NaN → zero, inv_scale = 1/scale in f32,
//   rne = round half to even (cvtps2dq / vcvtnq / nearbyint in the default rounding mode).
//   x = float(q - zero) · scale.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

struct QuantizeVariant {
  const char* name;
  Isa isa;
  // One (inv_scale, zero) for all n values. Output bytes are the low byte of q (s8 or u8 by [qmin, qmax]).
  void (*quantize)(size_t n, const float* x, float inv_scale, int32_t zero, int32_t qmin, int32_t qmax, uint8_t* out);
  // Per-element parameters (the channel axis is the innermost one): inv_scales[i], zeros[i].
  void (*quantize_channels)(size_t n, const float* x, const float* inv_scales, const int32_t* zeros, int32_t qmin,
                            int32_t qmax, uint8_t* out);
  void (*dequantize)(size_t n, const uint8_t* q, bool is_unsigned, float scale, int32_t zero, float* out);
  void (*dequantize_channels)(size_t n, const uint8_t* q, bool is_unsigned, const float* scales, const int32_t* zeros,
                              float* out);
  // Min and max over the non-NaN values (+Inf / -Inf when there are none). Returns true when a NaN was seen.
  bool (*minmax)(size_t n, const float* x, float* mn, float* mx);
  // Dynamic per-row quantization of m rows of k values (x row i at x + i·ldx, out row i at out + i·ldo): each row's
  // own range → quant_choose_params (uint8 asymmetric, or int8 symmetric when !is_unsigned) → scales[i], zeros[i],
  // the row quantized with 1/scale. A row holding NaN or ±Inf gets scale NaN, zero 0, bytes 0 and bad_row[i] = 1
  // (else 0). k = 0 rows are all zeros (scale 1, zero 0). The ranges of a block of rows are taken before any row
  // is quantized, so the scale divisions of independent rows overlap instead of queueing behind each row's pass.
  void (*quantize_rows)(size_t m, size_t k, const float* x, size_t ldx, bool is_unsigned, uint8_t* out, size_t ldo,
                        float* scales, int32_t* zeros, uint8_t* bad_row);
};

#define ST_QUANTIZE(sym, isa) extern const QuantizeVariant sym;
#include "kernels/quantize/kernels.inc"
#undef ST_QUANTIZE

// All compiled variants, best first; filled in cpu/dispatch.cc.
extern const VariantTable<QuantizeVariant> quantize_table;
// Plain one-value-at-a-time versions of the same rules, for the tests.
extern const QuantizeVariant quantize_reference;

// Scale and zero point for the range [mn, mx] (asymmetric: the range is widened to include 0; symmetric:
// [-amax, amax] with zero at the middle of the restricted range). qmin/qmax are those of the scheme:
//   int8 symmetric [-127, 127] zero 0; uint8 symmetric [1, 255] zero 128; int8 asymmetric [-128, 127];
//   uint8 asymmetric [0, 255]. A zero range gives scale 1; a tiny one is floored at kQuantMinScale.
constexpr float kQuantMinScale = 1e-30f;
struct QuantParams {
  float scale;
  int32_t zero;
};
void quant_range(bool is_unsigned, bool symmetric, int32_t* qmin, int32_t* qmax);
QuantParams quant_choose_params(float mn, float mx, bool is_unsigned, bool symmetric);

// counts[b] += number of x in bin b of `bins` equal bins over [lo, hi] (values outside go to the end bins;
// NaN is skipped). For the percentile / MSE calibrators.
void quant_histogram(size_t n, const float* x, float lo, float hi, size_t bins, double* counts);

}  // namespace simdtensor
