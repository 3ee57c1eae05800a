// Scalar reference for pooling: the direct definition, double sums, NaN propagating through max.
#include <cmath>
#include "kernels/f32-pool/f32-pool.h"

namespace simdtensor {
namespace {

float window(int kind, const PoolShape& s, const float* x, size_t xs, size_t oy, size_t ox) {
  double sum = 0;
  float mx = -INFINITY;
  bool nan = false;
  for (size_t ky = 0; ky < s.kh; ky++)
    for (size_t kx = 0; kx < s.kw; kx++) {
      const ptrdiff_t iy = ptrdiff_t(oy * s.sh + ky * s.dh) - ptrdiff_t(s.pt);
      const ptrdiff_t ix = ptrdiff_t(ox * s.sw + kx * s.dw) - ptrdiff_t(s.pl);
      if (iy < 0 || ix < 0 || iy >= ptrdiff_t(s.ih) || ix >= ptrdiff_t(s.iw)) continue;
      const float v = x[(size_t(iy) * s.iw + size_t(ix)) * xs];
      nan |= std::isnan(v);
      sum += v;
      mx = v > mx ? v : mx;
    }
  if (kind == kPoolMax) return nan ? NAN : mx;
  // Divisor: taps inside the input, or (count_include_pad) inside the padded input, counted independently here.
  size_t n = 0;
  for (size_t ky = 0; ky < s.kh; ky++)
    for (size_t kx = 0; kx < s.kw; kx++) {
      const ptrdiff_t iy = ptrdiff_t(oy * s.sh + ky * s.dh) - ptrdiff_t(s.pt);
      const ptrdiff_t ix = ptrdiff_t(ox * s.sw + kx * s.dw) - ptrdiff_t(s.pl);
      const ptrdiff_t lo_y = s.count_include_pad ? -ptrdiff_t(s.pt) : 0, lo_x = s.count_include_pad ? -ptrdiff_t(s.pl) : 0;
      const ptrdiff_t hi_y = ptrdiff_t(s.ih + (s.count_include_pad ? s.pb : 0));
      const ptrdiff_t hi_x = ptrdiff_t(s.iw + (s.count_include_pad ? s.pr : 0));
      if (iy >= lo_y && iy < hi_y && ix >= lo_x && ix < hi_x) n++;
    }
  return float(sum / double(n));
}

void ref_nhwc(int kind, const PoolShape& s, const float* x, float* y, size_t oy0, size_t oy1) {
  for (size_t oy = oy0; oy < oy1; oy++)
    for (size_t ox = 0; ox < s.ow; ox++)
      for (size_t c = 0; c < s.c; c++) y[(oy * s.ow + ox) * s.c + c] = window(kind, s, x + c, s.c, oy, ox);
}
void ref_nchw(int kind, const PoolShape& s, const float* x, float* y, size_t oy0, size_t oy1, float*) {
  for (size_t oy = oy0; oy < oy1; oy++)
    for (size_t ox = 0; ox < s.ow; ox++) y[oy * s.ow + ox] = window(kind, s, x, 1, oy, ox);
}
float global(int kind, size_t hw, const float* x, size_t xs) {
  double sum = 0;
  float mx = -INFINITY;
  bool nan = false;
  for (size_t p = 0; p < hw; p++) {
    const float v = x[p * xs];
    nan |= std::isnan(v);
    sum += v;
    mx = v > mx ? v : mx;
  }
  return kind == kPoolMax ? (nan ? NAN : mx) : float(sum / double(hw));
}
void ref_global_nhwc(int kind, size_t hw, size_t c, size_t ldx, const float* x, float* y) {
  for (size_t i = 0; i < c; i++) y[i] = global(kind, hw, x + i, ldx);
}
void ref_global_nchw(int kind, size_t hw, size_t c, const float* x, float* y) {
  for (size_t i = 0; i < c; i++) y[i] = global(kind, hw, x + i * hw, 1);
}

}  // namespace

const F32PoolVariant f32_pool_reference = {"f32_pool__reference", Isa::kScalar, &ref_nhwc,
                                           &ref_nchw, &ref_global_nhwc, &ref_global_nchw};

}  // namespace simdtensor
