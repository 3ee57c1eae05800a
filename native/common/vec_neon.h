// f32 vector traits for ARM64 NEON (4 lanes).
#pragma once
#include <arm_neon.h>
#include <cstddef>

namespace simdtensor {
namespace {

struct VecNeon {
  using R = float32x4_t;
  using M = uint32x4_t;
  static constexpr int W = 4;
  static R zero() { return vdupq_n_f32(0.0f); }
  static R set1(float x) { return vdupq_n_f32(x); }
  static R load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, R v) { vst1q_f32(p, v); }
  static R load_partial(const float* p, size_t n) {
    float t[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n && i < 4; i++) t[i] = p[i];
    return vld1q_f32(t);
  }
  static void store_partial(float* p, R v, size_t n) {
    float t[4];
    vst1q_f32(t, v);
    for (size_t i = 0; i < n && i < 4; i++) p[i] = t[i];
  }
  static R fmadd(R a, R b, R c) { return vfmaq_f32(c, a, b); }
  static R add(R a, R b) { return vaddq_f32(a, b); }
  static R sub(R a, R b) { return vsubq_f32(a, b); }
  static R mul(R a, R b) { return vmulq_f32(a, b); }
  static R div(R a, R b) { return vdivq_f32(a, b); }
  static R sqrt(R a) { return vsqrtq_f32(a); }
  static R max(R a, R b) { return vmaxq_f32(a, b); }  // NEON fmax propagates NaN from either operand
  static R min(R a, R b) { return vminq_f32(a, b); }
  static R abs(R a) { return vabsq_f32(a); }
  static R neg(R a) { return vnegq_f32(a); }
  static M gt(R a, R b) { return vcgtq_f32(a, b); }
  static M lt(R a, R b) { return vcltq_f32(a, b); }
  static M isnan(R a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static R select(M m, R a, R b) { return vbslq_f32(m, a, b); }
  static R round(R a) { return vrndnq_f32(a); }
  static R pow2i(R n) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23));
  }
  static R ldexp(R p, R n) { return mul(p, pow2i(n)); }  // p·2^n, n integral in [-126, 127]; 0 at n = -127
  static constexpr float kLdexpZeroN = -127.0f;
  static float hsum(R v) { return vaddvq_f32(v); }
  static float hmax(R v) { return vmaxvq_f32(v); }
  static void prefetch(const void* p) { __builtin_prefetch(p); }
};

}  // namespace
}  // namespace simdtensor
