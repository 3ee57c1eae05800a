// f32 convolution driver: an indirect GEMM over prepacked weight panels. Output pixels are the GEMM rows, kh·kw·cg
// the inner dimension, output channels the columns; the microkernel reads A through an indirection buffer (per MR
// rows and tap, pointers to the input pixels' channel vectors, or to a zero vector for padding) built per pixel
// block, so neither an im2col matrix nor a packed copy of A is ever made.
#pragma once
#include <cstddef>

#include "kernels/f32-conv/f32-conv.h"

namespace simdtensor {

struct F32ConvArgs {
  ConvShape s;
  const float* x;         // input, NHWC [n, h, w, c]
  const float* panels;    // pack_conv_weights_f32 layout for the conv variant's nr
  float* y;               // output, NHWC [n, oh, ow, m]
  const float* bias;      // m floats or null
  const float* residual;  // like y, or null: added before the activation
  F32ConvEpilogue ep;
};

// Below this many flops (the whole op, all groups) a conv runs on the calling thread alone. Higher than the GEMM
// driver's 2e6: a conv of 2-8 MFLOP takes ~15-60 µs on one core, and splitting it was measured slower, not faster, on
// a loaded 2-core VM (PaddleOCR cls, issue #16: its late 1×1 convs went from ~20 µs on one thread to ~75 µs on two,
// the caller waiting on a preempted worker's task).
constexpr double kF32ConvMinParallelFlops = 8e6;

// True when the conv is a plain GEMM on the input rows (1×1, stride 1, no padding, not transposed): one pointer per
// row, no bounds checks.
bool conv_is_pointwise(const ConvShape& s);

void f32_conv_run(const F32ConvVariant& v, const F32ConvArgs& a);

// The same over NCHW tensors (x [n, c, h, w], y and residual [n, m, oh, ow]): the input (and residual) are
// transposed to NHWC scratch (runtime/f32/transpose_driver.h), the NHWC driver runs, and the output is transposed back.
void f32_conv_run_nchw(const F32ConvVariant& v, const F32ConvArgs& a);

}  // namespace simdtensor
