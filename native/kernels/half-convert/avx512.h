// Pieces shared by the AVX-512 half converters (avx512f.cc, avx512bf16.cc); include only from files built with
// AVX-512 flags.
#pragma once
#include <cstddef>

#include "common/x86_intrin.h"

namespace simdtensor {
namespace {
// The low r lanes of 16.
inline __mmask16 tail_mask(size_t r) { return __mmask16((1u << r) - 1u); }
// f32 bits -> bfloat16 bits (low 16 of each lane), round to nearest even; NaN stays a quiet NaN.
inline __m512i bf16_round_epi32(__m512i x) {
  const __m512i ax = _mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epi32_mask(ax, _mm512_set1_epi32(0x7f800000));
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb), 16);
  return _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
}
}  // namespace
}  // namespace simdtensor
