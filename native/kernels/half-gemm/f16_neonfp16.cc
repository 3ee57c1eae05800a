// f16 GEMM microkernel f16_gemm_4x16__neonfp16: fmla on 8 fp16 lanes, 4 rows × 2 q of fp16 partial sums folded
// every 32 K steps into 4 rows × 4 q of f32 (27 of the 32 vector registers).
#include <arm_neon.h>

#include "common/vec_neon.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct HalfNeonFp16 {
  using H = float16x8_t;
  static constexpr int HW = 8;
  using AElem = uint16_t;
  static H zero() { return vreinterpretq_f16_u16(vdupq_n_u16(0)); }
  static H load(const uint16_t* p) { return vreinterpretq_f16_u16(vld1q_u16(p)); }
  static H bcast(const uint16_t* p) { return vreinterpretq_f16_u16(vld1q_dup_u16(p)); }
  static H fmadd(H a, H b, H acc) { return vfmaq_f16(acc, a, b); }
  static void widen(H h, float32x4_t* out) {
    out[0] = vcvt_f32_f16(vget_low_f16(h));
    out[1] = vcvt_high_f32_f16(h);
  }
};
}  // namespace

void f16_gemm_4x16__neonfp16(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                             unsigned flags, const float* bias, int act) {
  half_native_gemm_ukernel<HalfNeonFp16, VecNeon, 4, 2, 32>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
