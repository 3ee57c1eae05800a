// Half converters for ARM64 NEON: fcvtn/fcvtl for binary16 (baseline ARMv8), integer rounding for bfloat16.
#include <arm_neon.h>

#include "common/half.h"
#include "kernels/half-convert/half-convert.h"

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
}  // namespace

void f32_f16_cvt__neon(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
    vst1q_u16(y + i, vreinterpretq_u16_f16(h));
  }
  for (; i < n; i++) y[i] = f32_to_f16_scalar(x[i]);
}

void f16_f32_cvt__neon(size_t n, const void* in, void* out) {
  const uint16_t* x = static_cast<const uint16_t*>(in);
  float* y = static_cast<float*>(out);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x + i));
    vst1q_f32(y + i, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(y + i + 4, vcvt_high_f32_f16(h));
  }
  for (; i < n; i++) y[i] = f16_to_f32_scalar(x[i]);
}

void f32_bf16_cvt__neon(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x4_t a = bf16_round(vld1q_u32(reinterpret_cast<const uint32_t*>(x + i)));
    const uint16x4_t b = bf16_round(vld1q_u32(reinterpret_cast<const uint32_t*>(x + i + 4)));
    vst1q_u16(y + i, vcombine_u16(a, b));
  }
  for (; i < n; i++) y[i] = f32_to_bf16_scalar(x[i]);
}

void bf16_f32_cvt__neon(size_t n, const void* in, void* out) {
  const uint16_t* x = static_cast<const uint16_t*>(in);
  float* y = static_cast<float*>(out);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x8_t h = vld1q_u16(x + i);
    vst1q_u32(reinterpret_cast<uint32_t*>(y + i), vshll_n_u16(vget_low_u16(h), 16));
    vst1q_u32(reinterpret_cast<uint32_t*>(y + i + 4), vshll_high_n_u16(h, 16));
  }
  for (; i < n; i++) y[i] = bf16_to_f32_scalar(x[i]);
}

}  // namespace simdtensor
