// Half converters for AVX-512: F16C on zmm (vcvtps2ph/vcvtph2ps), bfloat16 by integer rounding; masked tails.
#include "common/x86_intrin.h"

#include "common/half_avx512.h"
#include "kernels/half-convert/avx512.h"
#include "kernels/half-convert/convert.h"

namespace simdtensor {
namespace {
// One vector a step: the integer rounding has no two-register pack to share.
struct Bf16NarrowAvx512 : F32ToBf16 {
  static constexpr size_t kBlock = 16, kPart = 16;
  static constexpr bool kMasked = true;
  static void block(const float* x, uint16_t* y) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), _mm512_cvtepi32_epi16(bf16_round_epi32(_mm512_loadu_si512(x))));
  }
  static void part(const float* x, uint16_t* y, size_t r) {
    const __mmask16 m = tail_mask(r);
    _mm256_mask_storeu_epi16(y, m, _mm512_cvtepi32_epi16(bf16_round_epi32(_mm512_maskz_loadu_epi32(m, x))));
  }
};
}  // namespace

ST_HALF_CVT_ENTRIES(avx512f, F16NarrowX2<HalfAvx512>, F16WidenX2<HalfAvx512>, Bf16NarrowAvx512, Bf16WidenX2<HalfAvx512>)

}  // namespace simdtensor
