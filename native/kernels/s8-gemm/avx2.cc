// int8 GEMM microkernel s8_gemm_4x16c4__avx2: 4 rows × 2 ymm, vpmaddubsw + vpmaddwd, exact for every u8 × s8.
// vpmaddubsw adds two u8·s8 products into int16 with saturation: 255·127·2 overflows. Splitting each activation
// byte into its low 7 bits and its top bit (a = (a & 0x7f) + (a & 0x80)) keeps both pair sums in range
// (|127·128·2| = 32512, |128·128·2| = 32768 only as -32768), so each half goes through vpmaddwd exactly.
#include "common/ivec_avx2.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotAvx2 : IVecAvx2 {
  struct A {
    __m256i lo, hi;
  };
  using B = __m256i;
  static A bcast_a(const uint8_t* p) {
    const __m256i v = _mm256_set1_epi32(s8_load_group(p));
    return {_mm256_and_si256(v, _mm256_set1_epi8(0x7f)), _mm256_and_si256(v, _mm256_set1_epi8(char(0x80)))};
  }
  static B load_b(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I dot4(I acc, const A& a, B b) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i lo = _mm256_madd_epi16(_mm256_maddubs_epi16(a.lo, b), ones);
    const __m256i hi = _mm256_madd_epi16(_mm256_maddubs_epi16(a.hi, b), ones);
    return _mm256_add_epi32(acc, _mm256_add_epi32(lo, hi));
  }
};
}  // namespace

ST_S8_GEMM_ENTRIES(s8_gemm_4x16c4__avx2, s8_gemv_4x16c4__avx2, DotAvx2, 4, 2, 4)

}  // namespace simdtensor
