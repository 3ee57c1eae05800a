// f32 -> bfloat16 with AVX512-BF16 vcvtne2ps2bf16 (32 per instruction). The instruction treats subnormal
// inputs as zero, which bfloat16 can represent, so vectors holding a subnormal take the integer rounding path.
#include "common/x86_intrin.h"

#include "kernels/half-convert/avx512.h"
#include "kernels/half-convert/convert.h"

namespace simdtensor {
namespace {
// fpclass imm 0x20: denormal.
inline __mmask16 subnormal(__m512 v) { return _mm512_fpclass_ps_mask(v, 0x20); }
inline __m256i cvt16(__m512 v) {
  if (subnormal(v)) return _mm512_cvtepi32_epi16(bf16_round_epi32(_mm512_castps_si512(v)));
  return __m256i(_mm512_cvtneps_pbh(v));
}

struct Bf16NarrowAvx512Bf16 : F32ToBf16 {
  static constexpr size_t kBlock = 32, kPart = 16;
  static constexpr bool kMasked = true;
  static void block(const float* x, uint16_t* y) {
    const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
    if (__builtin_expect(_kor_mask16(subnormal(a), subnormal(b)) == 0, 1)) {
      _mm512_storeu_si512(y, __m512i(_mm512_cvtne2ps_pbh(b, a)));
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), cvt16(a));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + 16), cvt16(b));
    }
  }
  static void part(const float* x, uint16_t* y, size_t r) {
    const __mmask16 m = r >= 16 ? __mmask16(0xffff) : tail_mask(r);
    _mm256_mask_storeu_epi16(y, m, cvt16(_mm512_maskz_loadu_ps(m, x)));
  }
};
}  // namespace

void f32_bf16_cvt__avx512bf16(size_t n, const void* in, void* out) { half_cvt_loop<Bf16NarrowAvx512Bf16>(n, in, out); }

}  // namespace simdtensor
