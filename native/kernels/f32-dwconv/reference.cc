// Scalar reference for depthwise conv: the direct definition, double accumulation. Tests compare every variant with it.
#include "kernels/f32-dwconv/f32-dwconv.h"

namespace simdtensor {
namespace {

// y[oy][ox] of one channel: sum over in-range taps of x·w (x at stride xs between columns, rows of iw·xs).
double tap_sum(const DwconvShape& s, const float* x, size_t xs, const float* w, size_t ws, size_t oy, size_t ox) {
  double acc = 0;
  for (size_t ky = 0; ky < s.kh; ky++)
    for (size_t kx = 0; kx < s.kw; kx++) {
      const ptrdiff_t iy = ptrdiff_t(oy * s.sh + ky * s.dh) - ptrdiff_t(s.pt);
      const ptrdiff_t ix = ptrdiff_t(ox * s.sw + kx * s.dw) - ptrdiff_t(s.pl);
      if (iy < 0 || ix < 0 || iy >= ptrdiff_t(s.ih) || ix >= ptrdiff_t(s.iw)) continue;
      acc += double(x[(size_t(iy) * s.iw + size_t(ix)) * xs]) * double(w[(ky * s.kw + kx) * ws]);
    }
  return acc;
}

void ref_nhwc(const DwconvShape& s, const float* x, const float* w, const float* bias, const ConvAct& act, float* y,
              size_t oy0, size_t oy1) {
  for (size_t oy = oy0; oy < oy1; oy++)
    for (size_t ox = 0; ox < s.ow; ox++)
      for (size_t c = 0; c < s.c; c++) {
        const double v = tap_sum(s, x + c, s.c, w + c, s.c, oy, ox) + (bias ? double(bias[c]) : 0.0);
        y[(oy * s.ow + ox) * s.c + c] = conv_act_reference(float(v), act);
      }
}

void ref_nchw(const DwconvShape& s, const float* x, const float* w, float bias, const ConvAct& act, float* y,
              size_t oy0, size_t oy1, float*) {
  for (size_t oy = oy0; oy < oy1; oy++)
    for (size_t ox = 0; ox < s.ow; ox++)
      y[oy * s.ow + ox] = conv_act_reference(float(tap_sum(s, x, 1, w, 1, oy, ox) + double(bias)), act);
}

}  // namespace

const F32DwconvVariant f32_dwconv_reference = {"f32_dwconv__reference", Isa::kScalar, &ref_nhwc, &ref_nchw};

}  // namespace simdtensor
