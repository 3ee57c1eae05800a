// AVX2 f32 transpose: 8×8 tiles in registers (unpack, shuffle, 128-bit lane permute), masked loads/stores at the edges;
// two tiles stacked per column step so each output row gets 16 consecutive floats.
#include "common/x86_intrin.h"
#include "kernels/f32-transpose/f32-transpose.h"
#include "kernels/f32-transpose/tiled.h"

namespace simdtensor {

namespace {
struct TileAvx2 {
  static constexpr size_t T = 8;
  static __m256i mask(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // r[i] = row i in, r[j] = column j out.
  static void t8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int p = 0; p < 4; p++) {
      t[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
      t[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int h = 0; h < 2; h++) {  // rows 4h..4h+3: u[4h + k] = column 4L + k of those rows in lane L
      u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
      u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
      u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
      u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {
      r[k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x20);
      r[4 + k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x31);
    }
  }
  static void full(const float* x, size_t ldx, float* y, size_t ldy) {
    __m256 r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(x + i * ldx);
    t8(r);
    for (int j = 0; j < 8; j++) _mm256_storeu_ps(y + j * ldy, r[j]);
  }
  static void part(const float* x, size_t ldx, float* y, size_t ldy, size_t rn, size_t cn) {
    __m256 r[8];
    const __m256i mc = mask(cn), mr = mask(rn);
    for (size_t i = 0; i < 8; i++) r[i] = i < rn ? _mm256_maskload_ps(x + i * ldx, mc) : _mm256_setzero_ps();
    t8(r);
    for (size_t j = 0; j < cn; j++) _mm256_maskstore_ps(y + j * ldy, mr, r[j]);
  }
};
void run(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) {
  transpose_tiled<TileAvx2, 2>(rows, cols, x, ldx, y, ldy);
}
}  // namespace

const F32TransposeVariant f32_transpose_8x8__avx2{"f32_transpose_8x8__avx2", Isa::kAvx2, &run};

}  // namespace simdtensor
