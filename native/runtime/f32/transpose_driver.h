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

}  // namespace simdtensor
