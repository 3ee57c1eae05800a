// Batched f32 transpose on the pool: each task is one block of about 64 Ki floats of one matrix (whole 64-row bands by
// column ranges, so thin matrices such as a 3-channel image still split), running the variant's tiled kernel.
#include "runtime/f32/transpose_driver.h"

#include "cpu/dispatch.h"
#include "runtime/core/parallel.h"

namespace simdtensor {

void f32_transpose_batched(const F32TransposeVariant& v, size_t batch, size_t rows, size_t cols, const float* in,
                           float* out) {
  if (batch == 0 || rows == 0 || cols == 0) return;
  constexpr size_t kBlock = 65536, kRowBand = 64;
  const size_t band = rows < kRowBand ? rows : kRowBand;
  size_t cb = kBlock / band;
  cb = cb < 64 ? 64 : cb / 64 * 64;  // column ranges in whole 64-column steps (every tile size divides 64)
  if (cb > cols) cb = cols;
  const size_t nr = (rows + band - 1) / band, nc = (cols + cb - 1) / cb, per = nr * nc;
  const size_t mat = rows * cols;
  auto task = [&](size_t id) {
    const size_t b = id / per, r = (id % per) / nc, c = id % nc;
    const size_t i0 = r * band, j0 = c * cb;
    const size_t ri = rows - i0 < band ? rows - i0 : band, cj = cols - j0 < cb ? cols - j0 : cb;
    v.run(ri, cj, in + b * mat + i0 * cols + j0, cols, out + b * mat + j0 * rows + i0, rows);
  };
  const size_t tasks = batch * per;
  if (double(batch) * double(mat) < double(kBlock))
    for (size_t id = 0; id < tasks; id++) task(id);
  else
    parallel_for(tasks, task);
}

void f32_transpose_batched(size_t batch, size_t rows, size_t cols, const float* in, float* out) {
  f32_transpose_batched(f32_transpose_table.select(), batch, rows, cols, in, out);
}

}  // namespace simdtensor
