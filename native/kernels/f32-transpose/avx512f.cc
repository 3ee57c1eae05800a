// AVX-512 f32 transpose: 16×16 tiles in registers (unpack, in-lane shuffle, two rounds of 128-bit lane shuffles);
// each output row of a tile is one 64-byte store. Edge tiles use masked loads and stores.
#include "common/x86_intrin.h"
#include "kernels/f32-transpose/f32-transpose.h"
#include "kernels/f32-transpose/tiled.h"

namespace simdtensor {

namespace {
struct TileAvx512 {
  static constexpr size_t T = 16;
  static __mmask16 mask(size_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u); }
  // r[i] = row i in, r[j] = column j out.
  static void t16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int p = 0; p < 8; p++) {
      t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
      t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 4; q++) {  // rows 4q..4q+3: u[4q + k] = column 4L + k of those rows in 128-bit lane L
      u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
      u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
      u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
      u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {
      t[k] = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x88);       // lanes 0, 2 of rows 0-3, 4-7
      t[4 + k] = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xDD);   // lanes 1, 3
      t[8 + k] = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x88);
      t[12 + k] = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xDD);
    }
    for (int k = 0; k < 4; k++) {
      r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
      r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xDD);
      r[4 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0x88);
      r[12 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0xDD);
    }
  }
  static void full(const float* x, size_t ldx, float* y, size_t ldy) {
    __m512 r[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(x + i * ldx);
    t16(r);
    for (int j = 0; j < 16; j++) _mm512_storeu_ps(y + j * ldy, r[j]);
  }
  static void part(const float* x, size_t ldx, float* y, size_t ldy, size_t rn, size_t cn) {
    __m512 r[16];
    const __mmask16 mc = mask(cn), mr = mask(rn);
    for (size_t i = 0; i < 16; i++) r[i] = i < rn ? _mm512_maskz_loadu_ps(mc, x + i * ldx) : _mm512_setzero_ps();
    t16(r);
    for (size_t j = 0; j < cn; j++) _mm512_mask_storeu_ps(y + j * ldy, mr, r[j]);
  }
};
void run(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) {
  transpose_tiled<TileAvx512, 1>(rows, cols, x, ldx, y, ldy);
}
}  // namespace

const F32TransposeVariant f32_transpose_16x16__avx512f{"f32_transpose_16x16__avx512f", Isa::kAvx512, &run};

}  // namespace simdtensor
