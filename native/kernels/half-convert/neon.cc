// Half converters for ARM64 NEON: fcvtn/fcvtl for binary16 (baseline ARMv8), integer rounding for bfloat16.
#include <arm_neon.h>

#include "kernels/half-convert/convert.h"

namespace simdtensor {
namespace {
inline uint16x4_t bf16_round(uint32x4_t x) {
  const uint32x4_t ax = vandq_u32(x, vdupq_n_u32(0x7fffffffu));
  const uint32x4_t nan = vcgtq_u32(ax, vdupq_n_u32(0x7f800000u));
  const uint32x4_t lsb = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
  const uint32x4_t r = vaddq_u32(vaddq_u32(x, vdupq_n_u32(0x7fffu)), lsb);
  const uint32x4_t q = vorrq_u32(x, vdupq_n_u32(0x400000u));  // the quiet bit, before the shift
  return vshrn_n_u32(vbslq_u32(nan, q, r), 16);
}

// Eight lanes a step (two q registers of f32, one of 16-bit lanes); tails take the scalar reference.
struct F16NarrowNeon : F32ToF16 {
  static constexpr size_t kBlock = 8;
  static void block(const float* x, uint16_t* y) {
    vst1q_u16(y, vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x)), vld1q_f32(x + 4))));
  }
};
struct F16WidenNeon : F16ToF32 {
  static constexpr size_t kBlock = 8;
  static void block(const uint16_t* x, float* y) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x));
    vst1q_f32(y, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(y + 4, vcvt_high_f32_f16(h));
  }
};
struct Bf16NarrowNeon : F32ToBf16 {
  static constexpr size_t kBlock = 8;
  static void block(const float* x, uint16_t* y) {
    const uint32_t* u = reinterpret_cast<const uint32_t*>(x);
    vst1q_u16(y, vcombine_u16(bf16_round(vld1q_u32(u)), bf16_round(vld1q_u32(u + 4))));
  }
};
struct Bf16WidenNeon : Bf16ToF32 {
  static constexpr size_t kBlock = 8;
  static void block(const uint16_t* x, float* y) {
    const uint16x8_t h = vld1q_u16(x);
    vst1q_u32(reinterpret_cast<uint32_t*>(y), vshll_n_u16(vget_low_u16(h), 16));
    vst1q_u32(reinterpret_cast<uint32_t*>(y + 4), vshll_high_n_u16(h, 16));
  }
};
}  // namespace

ST_HALF_CVT_ENTRIES(neon, F16NarrowNeon, F16WidenNeon, Bf16NarrowNeon, Bf16WidenNeon)

}  // namespace simdtensor
