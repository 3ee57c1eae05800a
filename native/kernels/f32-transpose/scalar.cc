// Scalar f32 transpose: 8×8 tiles through the shared loop nest (both tile sides stay in L1).
#include "kernels/f32-transpose/f32-transpose.h"
#include "kernels/f32-transpose/tiled.h"

namespace simdtensor {

namespace {
struct TileScalar {
  static constexpr size_t T = 8;
  static void part(const float* x, size_t ldx, float* y, size_t ldy, size_t r, size_t c) {
    for (size_t j = 0; j < c; j++)
      for (size_t i = 0; i < r; i++) y[j * ldy + i] = x[i * ldx + j];
  }
  static void full(const float* x, size_t ldx, float* y, size_t ldy) { part(x, ldx, y, ldy, T, T); }
};
void run(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) {
  transpose_tiled<TileScalar, 2>(rows, cols, x, ldx, y, ldy);
}
}  // namespace

const F32TransposeVariant f32_transpose_8x8__scalar{"f32_transpose_8x8__scalar", Isa::kScalar, &run};

}  // namespace simdtensor
