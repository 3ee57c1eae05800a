// int8 convolution on the int8 GEMM driver: u8/s8 activations (per-tensor zero point) × packed per-output-channel
// weights, groups = 1. A 1×1 stride-1 NHWC conv is the GEMM on the input itself; any other shape gathers bounded
// im2col slices (a few hundred pixel rows at a time, padding = the activation zero point) and runs the GEMM on each.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/f32-conv/f32-conv.h"
#include "runtime/int8/gemm_driver.h"

namespace simdtensor {

// The conv epilogue: an activation (any kConvAct* code: the int8 GEMM's own epilogue applies it in registers) and
// a residual added before it. With a residual, each slice's GEMM writes f32 (dequantized + bias; into the output
// itself for a float32 output, else a slice of scratch), the f32 conv epilogue kernel adds the residual and applies
// the activation while the slice is in L2, and int8 outputs are then requantized with the quantize kernel (the
// GEMM's own rounding rule).
struct S8ConvPost {
  int act = kConvActNone;  // any kConvAct* code (g.act is then ignored)
  float p0 = 0.0f, p1 = 0.0f;
  const float* residual = nullptr;  // f32 in the output's layout and shape, or null
  bool needed() const { return residual != nullptr; }
};

// g: the GEMM's arguments with B bound (s8_gemm_bind_weights), a_unsigned, a_zero / a_scale (per tensor, stride 0;
// or per input pixel, stride 1 over the n·h·w pixels, for a pointwise conv only: conv_is_pointwise(s), whose GEMM
// rows are the input pixels — any other shape with stride-1 parameters writes nothing; callers check), out kind, bias, act, out_scale / out_zero; m, k, a, lda, c and ldc are set here. x: NHWC [n, h, w, c] bytes;
// the output NHWC [n, oh, ow, m] of g.out's element type. s.groups must be 1 and s.transposed false.
void s8_conv_run(const S8GemmVariant& v, const ConvShape& s, const uint8_t* x, uint8_t pad_byte, S8GemmArgs g,
                 const S8ConvPost& post = S8ConvPost{});

// The same over NCHW tensors (x [n, c, h, w], output and residual [n, m, oh, ow]): transposed to NHWC and back.
void s8_conv_run_nchw(const S8GemmVariant& v, const ConvShape& s, const uint8_t* x, uint8_t pad_byte, S8GemmArgs g,
                      const S8ConvPost& post = S8ConvPost{});

}  // namespace simdtensor
