// f32 convolution driver: an implicit-im2col GEMM over prepacked weight panels. Output pixels are the GEMM rows,
// kh·kw·cg the inner dimension, output channels the columns; each MR×KC slice of A is gathered straight from the
// NHWC input into the packed-A buffer (padding taps read as zeros), so no im2col matrix is ever built.
#pragma once
#include <cstddef>

#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {

struct F32ConvArgs {
  ConvShape s;
  const float* x;         // input, NHWC [n, h, w, c]
  const float* panels;    // pack_conv_weights_f32 layout for the GEMM variant's nr
  float* y;               // output, NHWC [n, oh, ow, m]
  const float* bias;      // m floats or null
  const float* residual;  // like y, or null: added before the activation
  F32ConvEpilogue ep;
};

// True when the conv is a plain GEMM on the input rows (1×1, stride 1, no padding, not transposed).
bool conv_is_pointwise(const ConvShape& s);

void f32_conv_run(const F32GemmVariant& v, const F32ConvVariant& e, const F32ConvArgs& a);

// The same over NCHW tensors (x [n, c, h, w], y and residual [n, m, oh, ow]): the input (and residual) are
// transposed to NHWC scratch, the NHWC driver runs, and the output is transposed back.
void f32_conv_run_nchw(const F32GemmVariant& v, const F32ConvVariant& e, const F32ConvArgs& a);

// out[b][j][i] = in[b][i][j] for b < batch, i < rows, j < cols (blocked, parallel over batch and rows).
void transpose_f32_batched(size_t batch, size_t rows, size_t cols, const float* in, float* out);

}  // namespace simdtensor
