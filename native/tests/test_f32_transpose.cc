// Every compiled f32 transpose variant against the element loop: sizes around every tile edge (4, 8, 16 and the
// stacked 16/32-row blocks), strided input and output with sentinels in the gaps, buffers flush against their end;
// and the batched driver (pool blocks) on thin, square and batched matrices.
#include <cstring>
#include <vector>

#include "runtime/core/parallel.h"
#include "runtime/f32/transpose_driver.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
const size_t kSizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 65};
constexpr float kSentinel = -12345.0f;
}  // namespace

TEST(f32_transpose_variants_match_reference) {
  sttest::for_each_runnable(f32_transpose_table, [](const F32TransposeVariant& v) {
    sttest::Rng rng(7);
    for (size_t rows : kSizes)
      for (size_t cols : kSizes)
        for (size_t gap : {size_t(0), size_t(3)}) {
          const size_t ldx = cols + gap, ldy = rows + gap;
          sttest::Flush<float> x(rows * ldx), y(cols * ldy);
          std::vector<float> want(cols * ldy, kSentinel);
          for (size_t i = 0; i < rows * ldx; i++) x[i] = rng.uniform();
          for (size_t i = 0; i < cols * ldy; i++) y[i] = kSentinel;
          f32_transpose_reference.run(rows, cols, x.data(), ldx, want.data(), ldy);
          v.run(rows, cols, x.data(), ldx, y.data(), ldy);
          size_t bad = 0;
          for (size_t i = 0; i < cols * ldy; i++) bad += std::memcmp(&y[i], &want[i], sizeof(float)) != 0;
          CHECK(bad == 0, "%s rows=%zu cols=%zu gap=%zu: %zu wrong (incl. the stride gap)", v.name, rows, cols, gap, bad);
        }
    // NaN payloads and signed zeros move bit for bit.
    float x[16 * 16], y[16 * 16];
    for (size_t i = 0; i < 256; i++) x[i] = i % 3 == 0 ? -0.0f : i % 3 == 1 ? std::nanf("") : float(i);
    v.run(16, 16, x, 16, y, 16);
    size_t bad = 0;
    for (size_t i = 0; i < 16; i++)
      for (size_t j = 0; j < 16; j++) bad += std::memcmp(&y[j * 16 + i], &x[i * 16 + j], sizeof(float)) != 0;
    CHECK(bad == 0, "%s special values: %zu wrong", v.name, bad);
  });
}

TEST(f32_transpose_driver_batched) {
  const size_t shapes[][3] = {{1, 3, 50000}, {2, 144, 3136}, {3, 3136, 144}, {1, 1, 70000}, {2, 65, 1023}, {1, 257, 257}};
  const int saved = num_threads();
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    for (const auto& s : shapes) {
      const size_t b = s[0], r = s[1], c = s[2], n = b * r * c;
      sttest::Flush<float> x(n), y(n);
      sttest::Rng rng(r * 31 + c);
      for (size_t i = 0; i < n; i++) x[i] = rng.uniform();
      f32_transpose_batched(b, r, c, x.data(), y.data());
      size_t bad = 0;
      for (size_t k = 0; k < b; k++)
        for (size_t i = 0; i < r; i++)
          for (size_t j = 0; j < c; j++) bad += y[k * r * c + j * r + i] != x[k * r * c + i * c + j];
      CHECK(bad == 0, "driver threads=%d batch=%zu %zux%zu: %zu wrong", threads, b, r, c, bad);
    }
  }
  set_num_threads(saved);
}
