// Data movement and loops for convolution gradients (NHWC): im2col rows for the filter gradient of a full conv
// (whose GEMM runs on the f32 GEMM), and the depthwise filter / input gradients.
#pragma once
#include <cstddef>

namespace simdtensor {

// Geometry of a forward NHWC convolution x [n, ih, iw, c] -> y [n, oh, ow, c·mult] (depthwise) or [.., m] (full).
struct ConvBackGeom {
  size_t n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  size_t mult;  // depthwise channel multiplier (1 for im2col)
};

// Rows [row0, row0 + rows) of the im2col matrix of x: row r = output pixel (b, oy, ox) in NHWC order, K = kh·kw·c
// columns in (ky, kx, c) order (the HWIO filter's row order); taps in the padding are 0. cols has rows·K floats.
void f32_im2col_nhwc(const ConvBackGeom& g, const float* x, size_t row0, size_t rows, float* cols);

// dw [kh, kw, c, mult] = Σ over (b, oy, ox) of x[b, iy, ix, ch] · dy[b, oy, ox, ch·mult + j] (overwrites dw).
void f32_dwconv_backward_filter_nhwc(const ConvBackGeom& g, const float* x, const float* dy, float* dw);

// dx [n, ih, iw, c] = Σ over the taps that read x[b, iy, ix, ch] of w[ky, kx, ch, j] · dy[b, oy, ox, ch·mult + j]
// (overwrites dx).
void f32_dwconv_backward_input_nhwc(const ConvBackGeom& g, const float* w, const float* dy, float* dx);

}  // namespace simdtensor
