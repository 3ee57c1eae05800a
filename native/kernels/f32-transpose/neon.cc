// NEON f32 transpose: 4×4 tiles in registers (vtrnq + half-register combines), four tiles stacked per column step so
// each output row gets 16 consecutive floats; edge tiles go through a zero-padded 4×4 block on the stack.
#include <arm_neon.h>

#include "kernels/f32-transpose/f32-transpose.h"
#include "kernels/f32-transpose/tiled.h"

namespace simdtensor {

namespace {
struct TileNeon {
  static constexpr size_t T = 4;
  static void full(const float* x, size_t ldx, float* y, size_t ldy) {
    const float32x4x2_t a = vtrnq_f32(vld1q_f32(x), vld1q_f32(x + ldx));
    const float32x4x2_t b = vtrnq_f32(vld1q_f32(x + 2 * ldx), vld1q_f32(x + 3 * ldx));
    vst1q_f32(y, vcombine_f32(vget_low_f32(a.val[0]), vget_low_f32(b.val[0])));
    vst1q_f32(y + ldy, vcombine_f32(vget_low_f32(a.val[1]), vget_low_f32(b.val[1])));
    vst1q_f32(y + 2 * ldy, vcombine_f32(vget_high_f32(a.val[0]), vget_high_f32(b.val[0])));
    vst1q_f32(y + 3 * ldy, vcombine_f32(vget_high_f32(a.val[1]), vget_high_f32(b.val[1])));
  }
  static void part(const float* x, size_t ldx, float* y, size_t ldy, size_t r, size_t c) {
    float in[16] = {}, out[16];
    for (size_t i = 0; i < r; i++)
      for (size_t j = 0; j < c; j++) in[i * 4 + j] = x[i * ldx + j];
    full(in, 4, out, 4);
    for (size_t j = 0; j < c; j++)
      for (size_t i = 0; i < r; i++) y[j * ldy + i] = out[j * 4 + i];
  }
};
void run(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) {
  transpose_tiled<TileNeon, 4>(rows, cols, x, ldx, y, ldy);
}
}  // namespace

const F32TransposeVariant f32_transpose_4x4__neon{"f32_transpose_4x4__neon", Isa::kNeon, &run};

}  // namespace simdtensor
