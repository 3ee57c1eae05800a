// int32 vector traits for AVX2 (8 lanes), the companion of VecAvx2 for integer epilogues and quantization.
// Include only from files built with the avx2 group's flags (or a superset).
#pragma once
#include "common/x86_intrin.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include "common/vec_avx2.h"

namespace simdtensor {
namespace {  // internal linkage: never merged with copies built for other ISAs

struct IVecAvx2 {
  using I = __m256i;
  using V = VecAvx2;
  using R = __m256;
  static constexpr int W = 8;
  static I mask(size_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n < 8 ? n : 8)), idx);
  }
  static I zero() { return _mm256_setzero_si256(); }
  static I set1(int32_t x) { return _mm256_set1_epi32(x); }
  static I loadi(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I loadi_partial(const int32_t* p, size_t n) { return _mm256_maskload_epi32(p, mask(n)); }
  static void storei(int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static void storei_partial(int32_t* p, I v, size_t n) { _mm256_maskstore_epi32(p, mask(n), v); }
  static I add(I a, I b) { return _mm256_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I mullo(I a, I b) { return _mm256_mullo_epi32(a, b); }
  static R to_f32(I a) { return _mm256_cvtepi32_ps(a); }
  // vroundps with an explicit nearest-even mode (MXCSR-independent), then an exact conversion.
  static I cvt_rne(R a) { return _mm256_cvtps_epi32(_mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static void store_bytes(void* p, I q, size_t n) {
    const __m256i gather = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i s = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, gather), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    const uint64_t v = uint64_t(_mm_cvtsi128_si64(_mm256_castsi256_si128(s)));
    std::memcpy(p, &v, n < 8 ? n : 8);
  }
  static I load_u8(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n < 8 ? n : 8);
    return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(int64_t(v)));
  }
  static I load_s8(const int8_t* p, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n < 8 ? n : 8);
    return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(int64_t(v)));
  }
};

}  // namespace
}  // namespace simdtensor
