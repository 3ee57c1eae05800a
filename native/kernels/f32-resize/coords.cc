// Resize coordinate tables: ONNX coordinate_transformation_mode and nearest_mode, in float arithmetic like onnxruntime.
#include <cmath>
#include "kernels/f32-resize/f32-resize.h"

namespace simdtensor {
namespace {

// Given scales: float arithmetic step by step, as onnxruntime (e.g. half_pixel at scale 0.6: (1 + 0.5)/0.6f rounds to
// 2.5f, so the source is 2.0, not the 1.9999999 of double arithmetic).
float original_f(int coord, float xr, float scale, size_t in, size_t out) {
  switch (coord) {
    case kCoordPytorchHalfPixel: return out > 1 ? (xr + 0.5f) / scale - 0.5f : 0.0f;
    case kCoordAlignCorners: return out == 1 ? 0.0f : xr * float(in - 1) / float(out - 1);
    case kCoordAsymmetric: return xr / scale;
    case kCoordTfHalfPixelForNn: return (xr + 0.5f) / scale;
    default: return (xr + 0.5f) / scale - 0.5f;  // half_pixel
  }
}
// Sizes given: the exact ratio in/out in double, rounded to float once. onnxruntime's indices for sizes match this
// (4 → 7 asymmetric: source 2·7/4 = 3.5, where a float division by the float scale 4/7 gives 3.4999998).
float original_d(int coord, double xr, size_t in, size_t out) {
  const double r = double(in) / double(out);
  switch (coord) {
    case kCoordPytorchHalfPixel: return out > 1 ? float((xr + 0.5) * r - 0.5) : 0.0f;
    case kCoordAlignCorners: return out == 1 ? 0.0f : float(xr * double(in - 1) / double(out - 1));
    case kCoordAsymmetric: return float(xr * r);
    case kCoordTfHalfPixelForNn: return float((xr + 0.5) * r);
    default: return float((xr + 0.5) * r - 0.5);  // half_pixel
  }
}

float nearest_index(int nearest, float x) {
  switch (nearest) {
    case kNearestRoundPreferCeil: return std::round(x);
    case kNearestFloor: return std::floor(x);
    case kNearestCeil: return std::ceil(x);
    default: return x == std::floor(x) + 0.5f ? std::floor(x) : std::round(x);  // round_prefer_floor
  }
}

}  // namespace

void resize_axis(int mode, int coord, int nearest, size_t in, size_t out, float scale, bool from_sizes, int32_t* i0,
                 int32_t* i1, float* frac) {
  const float hi = float(in - 1);
  for (size_t o = 0; o < out; o++) {
    const float xo = from_sizes ? original_d(coord, double(o), in, out) : original_f(coord, float(o), scale, in, out);
    if (mode == kResizeNearest) {
      if (from_sizes ? in == out : scale == 1.0f) {  // no resizing on this axis: the identity, whatever the transform (as onnxruntime)
        i0[o] = i1[o] = int32_t(o < in ? o : in - 1);
        frac[o] = 0.0f;
        continue;
      }
      float n = nearest_index(nearest, xo);
      n = n < 0.0f || n != n ? 0.0f : (n > hi ? hi : n);
      i0[o] = i1[o] = int32_t(n);
      frac[o] = 0.0f;
      continue;
    }
    const float xc = xo < 0.0f || xo != xo ? 0.0f : (xo > hi ? hi : xo);
    const int32_t a = int32_t(xc);
    i0[o] = a;
    i1[o] = size_t(a) + 1 < in ? a + 1 : a;
    frac[o] = xc - float(a);
  }
}

}  // namespace simdtensor
