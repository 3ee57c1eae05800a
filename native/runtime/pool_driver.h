// Drivers for the f32 pooling kernels: windowed max/average and global pooling, batch and rows split over the pool.
#pragma once
#include <cstddef>
#include "kernels/f32-pool/f32-pool.h"

namespace simdtensor {

struct PoolArgs {
  int kind;  // PoolKind
  bool nhwc;
  size_t n, c, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool count_include_pad;
  const float* x;
  float* y;
};
void f32_pool_run(const F32PoolVariant& v, const PoolArgs& a);

// Global pooling: x [n][hw][c] (NHWC) or [n][c][hw] (NCHW) → y [n][c].
void f32_global_pool_run(const F32PoolVariant& v, int kind, bool nhwc, size_t n, size_t c, size_t hw, const float* x,
                         float* y);

}  // namespace simdtensor
