// int32 vector traits for NEON (4 lanes), the companion of VecNeon for integer epilogues and quantization.
#pragma once
#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include "common/vec_neon.h"

namespace simdtensor {
namespace {  // internal linkage: never merged with copies built for other ISAs

struct IVecNeon {
  using I = int32x4_t;
  using V = VecNeon;
  using R = float32x4_t;
  static constexpr int W = 4;
  static I zero() { return vdupq_n_s32(0); }
  static I set1(int32_t x) { return vdupq_n_s32(x); }
  static I loadi(const int32_t* p) { return vld1q_s32(p); }
  static I loadi_partial(const int32_t* p, size_t n) {
    int32_t t[4] = {0, 0, 0, 0};
    std::memcpy(t, p, (n < 4 ? n : 4) * 4);
    return vld1q_s32(t);
  }
  static void storei(int32_t* p, I v) { vst1q_s32(p, v); }
  static void storei_partial(int32_t* p, I v, size_t n) {
    int32_t t[4];
    vst1q_s32(t, v);
    std::memcpy(p, t, (n < 4 ? n : 4) * 4);
  }
  static I add(I a, I b) { return vaddq_s32(a, b); }
  static I sub(I a, I b) { return vsubq_s32(a, b); }
  static I mullo(I a, I b) { return vmulq_s32(a, b); }
  static R to_f32(I a) { return vcvtq_f32_s32(a); }
  static I cvt_rne(R a) { return vcvtnq_s32_f32(a); }  // FCVTNS: nearest, ties to even, regardless of FPCR
  static R fma(R a, R b, R c) { return vfmaq_f32(c, a, b); }
  static void store_bytes(void* p, I q, size_t n) {
    const int16x4_t h = vmovn_s32(q);
    const int8x8_t b = vmovn_s16(vcombine_s16(h, h));
    uint8_t t[8];
    vst1_u8(t, vreinterpret_u8_s8(b));
    std::memcpy(p, t, n < 4 ? n : 4);
  }
  static I load_u8(const uint8_t* p, size_t n) {
    uint8_t t[8] = {0};
    std::memcpy(t, p, n < 4 ? n : 4);
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(t)))));
  }
  static I load_s8(const int8_t* p, size_t n) {
    int8_t t[8] = {0};
    std::memcpy(t, p, n < 4 ? n : 4);
    return vmovl_s16(vget_low_s16(vmovl_s8(vld1_s8(t))));
  }
};

}  // namespace
}  // namespace simdtensor
