// Half converters for AVX2: F16C vcvtps2ph/vcvtph2ps on ymm; bfloat16 by integer rounding on 32-bit lanes.
#include "common/x86_intrin.h"

#include "common/half_avx2.h"
#include "kernels/half-convert/convert.h"

namespace simdtensor {
namespace {
// RNE to the top 16 bits; NaN keeps its top bits and gets the quiet bit. Results are in [0, 0xffff] per lane.
inline __m256i bf16_round_epi32(__m256i x) {
  const __m256i ax = _mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(ax, _mm256_set1_epi32(0x7f800000));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i q = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(r, q, nan);
}

struct Bf16NarrowAvx2 : F32ToBf16 {
  static constexpr size_t kBlock = 16;
  static void block(const float* x, uint16_t* y) {
    const __m256i a = bf16_round_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
    const __m256i b = bf16_round_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 8)));
    // packus interleaves 128-bit lanes (a0 b0 a1 b1): restore a then b.
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), p);
  }
};
}  // namespace

ST_HALF_CVT_ENTRIES(avx2, F16NarrowX2<HalfAvx2>, F16WidenX2<HalfAvx2>, Bf16NarrowAvx2, Bf16WidenX2<HalfAvx2>)

}  // namespace simdtensor
