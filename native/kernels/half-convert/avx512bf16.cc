// f32 -> bfloat16 with AVX512-BF16 vcvtne2ps2bf16 (32 per instruction). The instruction treats subnormal
// inputs as zero, which bfloat16 can represent, so vectors holding a subnormal take the integer rounding path.
#include "common/x86_intrin.h"

#include "kernels/half-convert/avx512.h"
#include "kernels/half-convert/half-convert.h"

namespace simdtensor {
namespace {
// fpclass imm 0x20: denormal.
inline __mmask16 subnormal(__m512 v) { return _mm512_fpclass_ps_mask(v, 0x20); }
inline __m256i cvt16(__m512 v) {
  if (subnormal(v)) return _mm512_cvtepi32_epi16(bf16_round_epi32(_mm512_castps_si512(v)));
  return __m256i(_mm512_cvtneps_pbh(v));
}
}  // namespace

void f32_bf16_cvt__avx512bf16(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    if (__builtin_expect(_kor_mask16(subnormal(a), subnormal(b)) == 0, 1)) {
      _mm512_storeu_si512(y + i, __m512i(_mm512_cvtne2ps_pbh(b, a)));
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), cvt16(a));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i + 16), cvt16(b));
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    _mm256_mask_storeu_epi16(y + i, m, cvt16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace simdtensor
