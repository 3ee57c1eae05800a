// Half converters for AVX2: F16C vcvtps2ph/vcvtph2ps on ymm; bfloat16 by integer rounding on 32-bit lanes.
#include "common/x86_intrin.h"

#include "common/half.h"
#include "kernels/half-convert/half-convert.h"

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
}  // namespace

void f32_f16_cvt__avx2(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m128i b = _mm256_cvtps_ph(_mm256_loadu_ps(x + i + 8), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i + 8), b);
  }
  for (; i < n; i++) y[i] = f32_to_f16_scalar(x[i]);
}

void f16_f32_cvt__avx2(size_t n, const void* in, void* out) {
  const uint16_t* x = static_cast<const uint16_t*>(in);
  float* y = static_cast<float*>(out);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
    _mm256_storeu_ps(y + i + 8, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8))));
  }
  for (; i < n; i++) y[i] = f16_to_f32_scalar(x[i]);
}

void f32_bf16_cvt__avx2(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = bf16_round_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    const __m256i b = bf16_round_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8)));
    // packus interleaves 128-bit lanes (a0 b0 a1 b1): restore a then b.
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), p);
  }
  for (; i < n; i++) y[i] = f32_to_bf16_scalar(x[i]);
}

void bf16_f32_cvt__avx2(size_t n, const void* in, void* out) {
  const uint16_t* x = static_cast<const uint16_t*>(in);
  float* y = static_cast<float*>(out);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256i b = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_slli_epi32(a, 16));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i + 8), _mm256_slli_epi32(b, 16));
  }
  for (; i < n; i++) y[i] = bf16_to_f32_scalar(x[i]);
}

}  // namespace simdtensor
