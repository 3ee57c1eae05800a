// Prepacked f32 convolution weights: per group, the [kh·kw·cg, mg] matrix packed into GEMM B panels of width nr.
#pragma once
#include <cstddef>

#include "kernels/f32-conv/f32-conv.h"
#include "runtime/core/panels_by_layout.h"

namespace simdtensor {

// Weight layouts accepted by the packer (with `groups`, cg = c/groups, mg = m/groups):
enum ConvWeightLayout : int {
  kConvOIHW = 0,  // [m, cg, kh, kw]   ONNX Conv, PyTorch Conv2d
  kConvHWIO = 1,  // [kh, kw, cg, m]   TF / TF.js conv2d
  kConvIOHW = 2,  // [c, mg, kh, kw]   ONNX ConvTranspose, PyTorch ConvTranspose2d
  kConvHWOI = 3,  // [kh, kw, mg, c]   TF.js conv2dTranspose / Conv2DBackpropInput (groups = 1: [kh, kw, m, c])
};

// Index of canonical element (g, ky, kx, ci, mo) in a weight tensor of the given layout.
size_t conv_weight_index(int layout, size_t c, size_t m, size_t kh, size_t kw, size_t groups, size_t g, size_t ky,
                         size_t kx, size_t ci, size_t mo);

// Floats of one group's panels, and the packing of every group (groups consecutive) for panel width nr.
// scale (m floats or null) multiplies output channel mo (batch-norm folding).
size_t conv_group_panel_floats(size_t kdim, size_t mg, size_t nr);
void pack_conv_weights_f32(const float* w, int layout, size_t c, size_t m, size_t kh, size_t kw, size_t groups,
                           const float* scale, size_t nr, float* out);

class PackedF32ConvWeights {
 public:
  PackedF32ConvWeights(const float* w, int layout, size_t c, size_t m, size_t kh, size_t kw, size_t groups,
                       const float* scale, size_t nr);
  size_t c() const { return c_; }
  size_t m() const { return m_; }
  size_t kh() const { return kh_; }
  size_t kw() const { return kw_; }
  size_t groups() const { return groups_; }
  // Panels for width nr (groups consecutive); made on first use by re-laying the first packing.
  const float* panels(size_t nr);
  size_t bytes() const;

 private:
  // Floats of every group's panels for width nr.
  size_t floats(size_t nr) const;

  size_t c_, m_, kh_, kw_, groups_;
  PanelsByLayout<size_t, float> by_nr_;
};

}  // namespace simdtensor
