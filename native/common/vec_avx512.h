// f32 vector traits for AVX-512F (16 lanes). Include only from files built with the avx512 group's flags.
#pragma once
#include "common/x86_intrin.h"
#include <cstddef>

namespace simdtensor {
namespace {  // internal linkage: these inlines must never be merged with copies built for other ISAs

struct VecAvx512 {
  using R = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R set1(float x) { return _mm512_set1_ps(x); }
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static M mask(size_t n) { return n >= 16 ? M(0xffff) : M((1u << n) - 1u); }
  static R load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_partial(float* p, R v, size_t n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R div(R a, R b) { return _mm512_div_ps(a, b); }
  static R sqrt(R a) { return _mm512_sqrt_ps(a); }
  // max/min with NaN propagation from `a` (x86 max returns the second operand when either is NaN).
  static R max(R a, R b) { return _mm512_max_ps(b, a); }
  static R min(R a, R b) { return _mm512_min_ps(b, a); }
  static R abs(R a) { return _mm512_abs_ps(a); }
  static R neg(R a) { return _mm512_sub_ps(_mm512_setzero_ps(), a); }
  static M gt(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M lt(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M isnan(R a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static R select(M m, R a, R b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
  static R round(R a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-126, 127].
  static R pow2i(R n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  // p·2^n for integral n, rounded once (in [-126, 127] the bits of mul(p, pow2i(n))): one vscalefps where pow2i's
  // convert, add and shift and the multiply were four operations (the softmax's exp is bound by its operation count).
  // Below the normals it rounds to the subnormals, and to 0 for n = kLdexpZeroN and p in [0.5, 1].
  static R ldexp(R p, R n) { return _mm512_scalef_ps(p, n); }
  static constexpr float kLdexpZeroN = -150.0f;
  static float hsum(R v) { return _mm512_reduce_add_ps(v); }
  static float hmax(R v) { return _mm512_reduce_max_ps(v); }
  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace
}  // namespace simdtensor
