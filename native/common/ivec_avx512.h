// int32 vector traits for AVX-512 (16 lanes), the companion of VecAvx512 for integer epilogues and quantization.
// Include only from files built with AVX-512 F/BW/VL flags.
#pragma once
#include "common/x86_intrin.h"
#include <cstddef>
#include <cstdint>
#include "common/vec_avx512.h"

namespace simdtensor {
namespace {  // internal linkage: never merged with copies built for other ISAs

struct IVecAvx512 {
  using I = __m512i;
  using V = VecAvx512;
  using R = __m512;
  static constexpr int W = 16;
  static __mmask16 mask(size_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u); }
  static I zero() { return _mm512_setzero_si512(); }
  static I set1(int32_t x) { return _mm512_set1_epi32(x); }
  static I loadi(const int32_t* p) { return _mm512_loadu_si512(p); }
  static I loadi_partial(const int32_t* p, size_t n) { return _mm512_maskz_loadu_epi32(mask(n), p); }
  static void storei(int32_t* p, I v) { _mm512_storeu_si512(p, v); }
  static void storei_partial(int32_t* p, I v, size_t n) { _mm512_mask_storeu_epi32(p, mask(n), v); }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I mullo(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static R to_f32(I a) { return _mm512_cvtepi32_ps(a); }
  // Round half to even by the instruction's own rounding field: independent of MXCSR.
  static I cvt_rne(R a) { return _mm512_cvt_roundps_epi32(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  // Low byte of each lane (values already in [-128, 255]) to p[0..n).
  static void store_bytes(void* p, I q, size_t n) { _mm_mask_storeu_epi8(p, mask(n), _mm512_cvtepi32_epi8(q)); }
  static I load_u8(const uint8_t* p, size_t n) { return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask(n), p)); }
  static I load_s8(const int8_t* p, size_t n) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask(n), p)); }
};

}  // namespace
}  // namespace simdtensor
