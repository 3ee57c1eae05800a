// Half-precision traits for AVX-512: VecAvx512 (16 lanes) with its 16-bit forms, and masked forms for tails
// (kMasked, VecAvx512::mask). Used by the half converters and the half GEMM B loaders.
// Include only from files built with the AVX-512 F/BW/VL flags.
#pragma once
#include <cstddef>
#include <cstdint>
#include "common/vec_avx512.h"

namespace simdtensor {
namespace {  // internal linkage: never merged with copies built for other ISAs

struct HalfAvx512 : VecAvx512 {
  using H = __m256i;
  using I = __m512i;
  static constexpr bool kMasked = true;
  static H loadh(const uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void storeh(uint16_t* p, H h) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), h); }
  static H narrow(R v) { return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static R widen(H h) { return _mm512_cvtph_ps(h); }
  static I u16_to_i32(H h) { return _mm512_cvtepu16_epi32(h); }
  static I shl16(I v) { return _mm512_slli_epi32(v, 16); }
  static void storei(float* p, I v) { _mm512_storeu_si512(p, v); }
  // 2·W bfloat16 lanes as one register; the even lanes' and the odd lanes' values, widened to f32.
  static I loadw(const uint16_t* p) { return _mm512_loadu_si512(p); }
  static R bf16_even(I x) { return _mm512_castsi512_ps(shl16(x)); }
  static R bf16_odd(I x) { return _mm512_castsi512_ps(_mm512_and_si512(x, _mm512_set1_epi32(int(0xffff0000u)))); }
  static void narrow_part(const float* x, uint16_t* y, __mmask16 m) {
    _mm256_mask_storeu_epi16(y, m, narrow(_mm512_maskz_loadu_ps(m, x)));
  }
  static void widen_part(const uint16_t* x, float* y, __mmask16 m) {
    _mm512_mask_storeu_ps(y, m, widen(_mm256_maskz_loadu_epi16(m, x)));
  }
  static void bf16_widen_part(const uint16_t* x, float* y, __mmask16 m) {
    _mm512_mask_storeu_epi32(y, m, shl16(u16_to_i32(_mm256_maskz_loadu_epi16(m, x))));
  }
};

}  // namespace
}  // namespace simdtensor
