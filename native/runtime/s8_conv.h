// int8 convolution on the int8 GEMM driver: u8/s8 activations (per-tensor zero point) × packed per-output-channel
// weights, groups = 1. A 1×1 stride-1 NHWC conv is the GEMM on the input itself; any other shape gathers bounded
// im2col slices (a few hundred pixel rows at a time, padding = the activation zero point) and runs the GEMM on each.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/f32-conv/f32-conv.h"
#include "runtime/s8_gemm_driver.h"

namespace simdtensor {

// g: the GEMM's arguments with B bound (s8_gemm_bind_weights), a_unsigned, a_zero / a_scale (per tensor, stride 0),
// out kind, bias, act, out_scale / out_zero; m, k, a, lda, c and ldc are set here. x: NHWC [n, h, w, c] bytes;
// the output NHWC [n, oh, ow, m] of g.out's element type. s.groups must be 1 and s.transposed false.
void s8_conv_run(const S8GemmVariant& v, const ConvShape& s, const uint8_t* x, uint8_t pad_byte, S8GemmArgs g);

// The same over NCHW tensors (x [n, c, h, w], output [n, m, oh, ow]): transposed to NHWC and back.
void s8_conv_run_nchw(const S8GemmVariant& v, const ConvShape& s, const uint8_t* x, uint8_t pad_byte, S8GemmArgs g);

}  // namespace simdtensor
