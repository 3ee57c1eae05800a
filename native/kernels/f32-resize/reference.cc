// Scalar reference for resize over the same coordinate tables: direct gathers, bilinear blend in double.
#include "kernels/f32-resize/f32-resize.h"

namespace simdtensor {
namespace {

float sample(int mode, const ResizeShape& s, const ResizeAxes& t, const float* x, size_t xs, size_t oy, size_t ox) {
  auto at = [&](int32_t iy, int32_t ix) { return double(x[(size_t(iy) * s.iw + size_t(ix)) * xs]); };
  if (mode == kResizeNearest) return float(at(t.y0[oy], t.x0[ox]));
  const double fy = t.fy[oy], fx = t.fx[ox];
  const double top = at(t.y0[oy], t.x0[ox]) * (1 - fx) + at(t.y0[oy], t.x1[ox]) * fx;
  const double bot = at(t.y1[oy], t.x0[ox]) * (1 - fx) + at(t.y1[oy], t.x1[ox]) * fx;
  return float(top * (1 - fy) + bot * fy);
}

void ref_nhwc(int mode, const ResizeShape& s, const ResizeAxes& t, const float* x, float* y, size_t oy0, size_t oy1) {
  for (size_t oy = oy0; oy < oy1; oy++)
    for (size_t ox = 0; ox < s.ow; ox++)
      for (size_t c = 0; c < s.c; c++) y[(oy * s.ow + ox) * s.c + c] = sample(mode, s, t, x + c, s.c, oy, ox);
}
void ref_nchw(int mode, const ResizeShape& s, const ResizeAxes& t, const float* x, float* y, size_t oy0, size_t oy1,
              float*) {
  for (size_t oy = oy0; oy < oy1; oy++)
    for (size_t ox = 0; ox < s.ow; ox++) y[oy * s.ow + ox] = sample(mode, s, t, x, 1, oy, ox);
}

}  // namespace

const F32ResizeVariant f32_resize_reference = {"f32_resize__reference", Isa::kScalar, &ref_nhwc, &ref_nchw};

}  // namespace simdtensor
