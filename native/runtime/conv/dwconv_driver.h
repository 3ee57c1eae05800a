// Driver for the f32 depthwise conv kernels: weight layouts, channel multiplier, batch, rows split over the pool.
#pragma once
#include <cstddef>
#include "kernels/f32-dwconv/f32-dwconv.h"

namespace simdtensor {

struct DwconvArgs {
  bool nhwc;        // x/y NHWC [n][h][w][c] (else NCHW [n][c][h][w])
  bool w_hwc;       // w is [kh][kw][c·mult] (TF.js [kH, kW, C, M]); else [c·mult][kh][kw] (ONNX [C·M, 1, kH, kW])
  size_t n, c, mult;  // batch, input channels, channel multiplier (output channels c·mult; oc = ic·mult + m)
  size_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  const float* x;
  const float* w;
  const float* bias;  // [c·mult] or null
  ConvAct act;
  float* y;
};

// NCHW goes through NHWC (transpose, NHWC kernel, transpose back) when planes are small or strided: there the NCHW
// kernel's per-plane setup or its strided column copy costs more than two transposes (measured, docs/conv.md).
inline bool dwconv_nchw_via_nhwc(const DwconvArgs& a) { return !a.nhwc && (a.sh > 1 || a.sw > 1 || a.ih * a.iw < 1024); }

// Runs the whole op (every image) on the pool. Results do not depend on the thread count.
void f32_dwconv_run(const F32DwconvVariant& v, const DwconvArgs& a);

}  // namespace simdtensor
