// f32 convolution family: the epilogue kernel applied to each output tile of the conv GEMM while it is in L1
// (activations beyond the GEMM microkernel's relu/gelu, and a residual add before the activation).
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"
#include "kernels/f32-conv-common/activation.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {

// Activation codes (kConvAct*, shared by the conv families): kernels/f32-conv-common/activation.h.

struct F32ConvEpilogue {
  int act = kConvActNone;
  float p0 = 0.0f, p1 = 0.0f;
};

// c[i][j] = act(c[i][j] + (residual ? r[i][j] : 0)) for i < m, j < n (row strides ldc, ldr). NaN propagates.
using F32ConvEpilogueFn = void (*)(size_t m, size_t n, float* c, size_t ldc, const float* r, size_t ldr,
                                   const F32ConvEpilogue& ep);

// C[m×n] (ldc) (+)= Σ_t Σ_p a[t·mr + i][p] · B[t·cg + p][j]: the indirect conv microkernel. `a` holds, per tap t,
// mr row pointers (rows >= m ignored), each to cg readable floats (a pixel's channels, or zeros for padding); b is
// a packed B micro-panel (runtime/f32/pack.h layout) over taps·cg rows; flags, bias and act as the f32 GEMM microkernel.
using F32ConvIgemmFn = void (*)(size_t m, size_t n, size_t taps, size_t cg, const float* const* a, const float* b,
                                float* c, size_t ldc, unsigned flags, const float* bias, int act);

struct F32ConvVariant {
  const char* name;
  Isa isa;
  size_t mr, nr;
  F32ConvIgemmFn igemm;
  F32ConvEpilogueFn epilogue;
};

#define ST_F32_CONV(sym, isa, mr, nr) extern const F32ConvVariant sym;
#define ST_F32_CONV_NARROW(sym, isa, mr, nr) extern const F32ConvVariant sym;
#include "kernels/f32-conv/kernels.inc"
#undef ST_F32_CONV
#undef ST_F32_CONV_NARROW

// Every compiled full-width variant, best first; filled in cpu/dispatch.cc from kernels.inc (ops call .select()).
extern const VariantTable<F32ConvVariant> f32_conv_table;
// The narrow-panel variants first, then the full-width ones (so select() never fails): the thin-layer choice.
extern const VariantTable<F32ConvVariant> f32_conv_narrow_table;

// The variant for a conv with mg output channels per group: the narrow-panel one when mg fits its panel and that
// panel is narrower than the best full-width variant's, else the full-width one. Weights are packed for its nr.
inline const F32ConvVariant& f32_conv_variant_for(size_t mg) {
  const F32ConvVariant& wide = f32_conv_table.select();
  const F32ConvVariant& narrow = f32_conv_narrow_table.select();
  return narrow.nr < wide.nr && mg <= narrow.nr ? narrow : wide;
}

// One 2-D convolution (or transposed convolution) over NHWC tensors, as the driver and the references see it.
//   input  [n, h, w, c], output [n, oh, ow, m]; groups split c and m evenly (cg = c/groups, mg = m/groups).
//   Direct:     out[oy][ox] = Σ_{ky,kx,ci} in[oy·sh - pad_t + ky·dh][ox·sw - pad_l + kx·dw][ci] · W[ky][kx][ci][mo]
//   Transposed: out[oy][ox] = Σ over taps with oy + pad_t - ky·dh = iy·sh (0 <= iy < h), likewise for x.
// The canonical weight order is, per group g, a [kh·kw·cg, mg] matrix (row (ky·kw + kx)·cg + ci, column mo).
struct ConvShape {
  size_t n, h, w, c, m;
  size_t kh, kw, sh, sw, dh, dw;
  size_t pad_t, pad_l;
  size_t groups;
  size_t oh, ow;
  bool transposed;
  size_t cg() const { return c / groups; }
  size_t mg() const { return m / groups; }
  size_t kdim() const { return kh * kw * cg(); }
  size_t pixels() const { return n * oh * ow; }
};

// Scalar references (tests only): one activation value, the igemm and the epilogue as plain loops, and a plain direct /
// transposed convolution with double accumulation over canonical weights ([groups][kh·kw·cg][mg]).
float f32_conv_activation_reference(float x, const F32ConvEpilogue& ep);
extern const F32ConvVariant f32_conv_reference;
void f32_conv2d_reference(const ConvShape& s, const float* x, const float* w, const float* bias, const float* residual,
                          const F32ConvEpilogue& ep, float* y);

}  // namespace simdtensor
