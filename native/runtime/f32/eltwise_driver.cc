// Chunked, parallel drivers for the f32 elementwise family. Each chunk is a contiguous range handed to the same
// kernel the single-threaded path runs, so results are bit-identical for every thread count.
#include "runtime/f32/eltwise_driver.h"

#include "kernels/f32-gemm/f32-gemm.h"
#include "runtime/core/parallel.h"

namespace simdtensor {

namespace {
// Rows per chunk so a chunk holds at least kRowwiseMinChunkElems elements.
inline size_t min_rows(size_t cols) { return cols >= kRowwiseMinChunkElems ? 1 : (kRowwiseMinChunkElems + cols - 1) / cols; }
}  // namespace

void f32_binary_run(const F32EltwiseVariant& v, int op, size_t n, const float* a, const float* b, float* out) {
  // Chunk starts are multiples of 16 floats: no two threads write one cache line.
  parallel_for_range(n, kEltwiseMinChunk, 16, [&](size_t s, size_t e) { v.binary(op, e - s, a + s, b + s, out + s); });
}

void f32_binary_row_run(const F32EltwiseVariant& v, int op, size_t rows, size_t cols, const float* a,
                        const float* row, float* out) {
  if (cols == 0) return;
  // One column (a scalar operand): chunk starts at multiples of 16 rows, as f32_binary_run's.
  parallel_for_range(rows, min_rows(cols), cols == 1 ? 16 : 1, [&](size_t s, size_t e) {
    v.binary_row(op, e - s, cols, a + s * cols, row, out + s * cols);
  });
}

void f32_activation_run(const F32EltwiseVariant& v, int act, size_t n, const float* x, float* out) {
  const size_t chunk = act == kActGelu ? kEltwiseComputeMinChunk : kEltwiseMinChunk;
  parallel_for_range(n, chunk, 16, [&](size_t s, size_t e) { v.activation(act, e - s, x + s, out + s); });
}

void f32_softmax_run(const F32EltwiseVariant& v, bool log, size_t rows, size_t cols, const float* x, float* out) {
  if (cols == 0) return;
  // exp per element: compute-heavy enough to split at a quarter of the plain row-wise size.
  parallel_for_range(rows, (min_rows(cols) + 3) / 4, 1, [&](size_t s, size_t e) {
    v.softmax(log, e - s, cols, x + s * cols, nullptr, out + s * cols);
  });
}

void f32_layernorm_run(const F32EltwiseVariant& v, size_t rows, size_t cols, const float* x, const float* gamma,
                       const float* beta, float eps, float* out) {
  if (cols == 0) return;
  parallel_for_range(rows, min_rows(cols), 1, [&](size_t s, size_t e) {
    v.layernorm(e - s, cols, x + s * cols, nullptr, gamma, beta, eps, out + s * cols);
  });
}

}  // namespace simdtensor
