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
// NCHW goes through NHWC (the in-register transposes, the NHWC kernel, back) when strided or on planes under 1024
// pixels: measured faster there (one thread, best of 31 under load: 64×112×112 3×3 s2 861 → 447 µs, 256×28×28 2×2 s2
// 209 → 98, 96×28×28 3×3 s2 108 → 34, 512×14×14 3×3 s1 214 → 147) and even on large stride-1 planes (64×56×56: 202
// vs 199), which keep the NCHW kernel.
inline bool pool_nchw_via_nhwc(const PoolArgs& a) { return !a.nhwc && (a.sh > 1 || a.sw > 1 || a.ih * a.iw < 1024); }
// Runs the whole op (every image) on the pool. Results do not depend on the thread count.
void f32_pool_run(const F32PoolVariant& v, const PoolArgs& a);

// Global pooling: x [n][hw][c] (NHWC) or [n][c][hw] (NCHW) → y [n][c].
void f32_global_pool_run(const F32PoolVariant& v, int kind, bool nhwc, size_t n, size_t c, size_t hw, const float* x,
                         float* y);

}  // namespace simdtensor
