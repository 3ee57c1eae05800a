// Half-precision traits for AVX2+F16C: VecAvx2 (8 lanes) with its 16-bit forms: F16C conversions, bfloat16 by
// shifts. No masked 16-bit loads (kMasked false). Used by the half converters and the half GEMM B loaders.
// Include only from files built with the avx2 group's flags.
#pragma once
#include <cstddef>
#include <cstdint>
#include "common/vec_avx2.h"

namespace simdtensor {
namespace {  // internal linkage: never merged with copies built for other ISAs

struct HalfAvx2 : VecAvx2 {
  using H = __m128i;
  using I = __m256i;
  static constexpr bool kMasked = false;
  static H loadh(const uint16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static void storeh(uint16_t* p, H h) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), h); }
  static H narrow(R v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static R widen(H h) { return _mm256_cvtph_ps(h); }
  static I u16_to_i32(H h) { return _mm256_cvtepu16_epi32(h); }
  static I shl16(I v) { return _mm256_slli_epi32(v, 16); }
  static void storei(float* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  // 2·W bfloat16 lanes as one register; the even lanes' and the odd lanes' values, widened to f32.
  static I loadw(const uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static R bf16_even(I x) { return _mm256_castsi256_ps(shl16(x)); }
  static R bf16_odd(I x) { return _mm256_castsi256_ps(_mm256_and_si256(x, _mm256_set1_epi32(int(0xffff0000u)))); }
};

}  // namespace
}  // namespace simdtensor
