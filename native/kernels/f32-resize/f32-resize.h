// f32 2-D resize family: nearest and bilinear, every ONNX/TF.js coordinate transformation, NHWC and NCHW. The
// per-axis source indices and weights are computed once per call (resize_axis); kernels only gather and blend.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum ResizeMode : int { kResizeNearest = 0, kResizeLinear = 1 };
// ONNX coordinate_transformation_mode (x_resized → x_original), with scale = out/in or the given scale:
enum ResizeCoord : int {
  kCoordHalfPixel = 0,         // (x + 0.5) / scale − 0.5
  kCoordPytorchHalfPixel = 1,  // out > 1 ? (x + 0.5) / scale − 0.5 : 0
  kCoordAlignCorners = 2,      // out > 1 ? x · (in − 1) / (out − 1) : 0
  kCoordAsymmetric = 3,        // x / scale
  kCoordTfHalfPixelForNn = 4,  // (x + 0.5) / scale
  kCoordCount = 5,
};
// ONNX nearest_mode: how x_original becomes an index (then clamped to [0, in − 1]).
enum ResizeNearest : int {
  kNearestRoundPreferFloor = 0,
  kNearestRoundPreferCeil = 1,
  kNearestFloor = 2,
  kNearestCeil = 3,
  kNearestCount = 4,
};

// Source positions of `out` resized coordinates along one axis of length `in`, computed as onnxruntime's results
// show: with given scales in float arithmetic dividing by `scale`; with sizes given (from_sizes) from the exact ratio
// in/out (`scale` unused). Nearest: i0 only (i1 = i0, frac = 0). Linear: x_original clamped to [0, in − 1], i0 = floor, i1 = min(i0 + 1,
// in − 1), frac = weight of i1.
void resize_axis(int mode, int coord, int nearest, size_t in, size_t out, float scale, bool from_sizes, int32_t* i0,
                 int32_t* i1, float* frac);

struct ResizeShape {
  size_t c, ih, iw, oh, ow;
};
// The tables of both axes (oh entries for y, ow for x).
struct ResizeAxes {
  const int32_t *y0, *y1;
  const float* fy;
  const int32_t *x0, *x1;
  const float* fx;
};

struct F32ResizeVariant {
  const char* name;
  Isa isa;
  // NHWC, output rows [oy0, oy1) of one image: x [ih][iw][c] → y [oh][ow][c].
  void (*nhwc)(int mode, const ResizeShape& s, const ResizeAxes& a, const float* x, float* y, size_t oy0, size_t oy1);
  // NCHW, output rows [oy0, oy1) of one plane: x [ih][iw] → y [oh][ow]. scratch: 2·ow floats (bilinear).
  void (*nchw)(int mode, const ResizeShape& s, const ResizeAxes& a, const float* x, float* y, size_t oy0, size_t oy1,
               float* scratch);
};

#define ST_F32_RESIZE(sym, isa) extern const F32ResizeVariant sym;
#include "kernels/f32-resize/kernels.inc"
#undef ST_F32_RESIZE

// Every compiled variant, best first; filled in cpu/dispatch.cc from kernels.inc (ops call .select()).
extern const VariantTable<F32ResizeVariant> f32_resize_table;

// Plain loops over the same tables, blending in double: the tests' reference.
extern const F32ResizeVariant f32_resize_reference;

}  // namespace simdtensor
