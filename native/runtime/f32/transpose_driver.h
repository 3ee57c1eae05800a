// Driver for the f32 transpose kernels: a batch of rows × cols matrices (the NCHW <-> NHWC layout change), split over
// the pool in blocks of rows and columns.
#pragma once
#include <cstddef>
#include "kernels/f32-transpose/f32-transpose.h"

namespace simdtensor {

// out[b][j][i] = in[b][i][j] for b < batch, i < rows, j < cols (dense matrices; in and out must not overlap).
// NCHW → NHWC is (batch = N, rows = C, cols = H·W); NHWC → NCHW is (N, H·W, C). Parallel above ~64 Ki floats.
void f32_transpose_batched(const F32TransposeVariant& v, size_t batch, size_t rows, size_t cols, const float* in,
                           float* out);
// The same with the best variant under the current ISA cap.
void f32_transpose_batched(size_t batch, size_t rows, size_t cols, const float* in, float* out);

// Runs an NHWC op over NCHW images, one image at a time: image i of x (c_in planes of in_px) is transposed into xs
// (in_px × c_in), run() reads xs and writes ys (out_px × c_out), and ys is transposed back into image i of y (c_out
// planes of out_px). xs and ys are the caller's scratch; the transposes run on the pool.
template <class Run>
void f32_nchw_through_nhwc(size_t n, size_t c_in, size_t in_px, size_t c_out, size_t out_px, const float* x, float* y,
                           float* xs, const float* ys, const Run& run) {
  for (size_t img = 0; img < n; img++) {
    f32_transpose_batched(1, c_in, in_px, x + img * c_in * in_px, xs);
    run();
    f32_transpose_batched(1, out_px, c_out, ys, y + img * c_out * out_px);
  }
}

}  // namespace simdtensor
