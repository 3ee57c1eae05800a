// f32 depthwise 2-D convolution family (groups = channels): NHWC vectorized over channels with 3x3/5x5 register
// tiles, NCHW vectorized over output width; fused bias and activation (kernels/f32-conv-common/activation.h).
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"
#include "kernels/f32-conv-common/activation.h"

namespace simdtensor {

// One image's geometry. A channel multiplier is expanded by the driver, so input and output channels are equal.
struct DwconvShape {
  size_t c;               // channels
  size_t ih, iw, oh, ow;  // input and output spatial sizes
  size_t kh, kw;          // kernel
  size_t sh, sw;          // strides (>= 1)
  size_t dh, dw;          // dilations (>= 1)
  size_t pt, pl;          // top and left padding (bottom/right padding is implied by oh, ow)
};

struct F32DwconvVariant {
  const char* name;
  Isa isa;
  // NHWC, output rows [oy0, oy1) of one image. x: [ih][iw][c]; w: [kh][kw][c] (channel-last, the driver repacks);
  // bias: [c] or null; y: [oh][ow][c].
  void (*nhwc)(const DwconvShape& s, const float* x, const float* w, const float* bias, const ConvAct& act, float* y,
               size_t oy0, size_t oy1);
  // NCHW, output rows [oy0, oy1) of one channel plane. x: [ih][iw]; w: [kh][kw]; y: [oh][ow].
  // scratch: f32_dwconv_nchw_scratch(s, oy1 - oy0) floats (the zero-padded input rows, split by column phase).
  void (*nchw)(const DwconvShape& s, const float* x, const float* w, float bias, const ConvAct& act, float* y,
               size_t oy0, size_t oy1, float* scratch);
};

// Floats of NCHW scratch for `rows` output rows (plus a vector of slack for over-wide loads of the last column).
size_t f32_dwconv_nchw_scratch(const DwconvShape& s, size_t rows);

#define ST_F32_DWCONV(sym, isa) extern const F32DwconvVariant sym;
#include "kernels/f32-dwconv/kernels.inc"
#undef ST_F32_DWCONV

// Every compiled variant, best first; filled in cpu/dispatch.cc from kernels.inc (ops call .select()).
extern const VariantTable<F32DwconvVariant> f32_dwconv_table;

// Plain loops, double accumulation: the tests' reference (same signatures).
extern const F32DwconvVariant f32_dwconv_reference;

}  // namespace simdtensor
