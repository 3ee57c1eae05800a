// Driver for the f32 resize kernels: coordinate tables once per call, then rows of every image/plane over the pool.
#pragma once
#include <cstddef>
#include "kernels/f32-resize/f32-resize.h"

namespace simdtensor {

struct ResizeArgs {
  int mode, coord, nearest;  // ResizeMode, ResizeCoord, ResizeNearest
  bool nhwc;
  size_t n, c, ih, iw, oh, ow;
  bool from_sizes;          // output sizes given: coordinates from the exact ratio in/out (scales unused)
  float scale_h, scale_w;  // the given scales the coordinate transform divides by
  const float* x;
  float* y;
};
void f32_resize_run(const F32ResizeVariant& v, const ResizeArgs& a);

}  // namespace simdtensor
