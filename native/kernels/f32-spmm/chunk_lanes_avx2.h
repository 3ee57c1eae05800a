// Chunked CSR lane access over ymm (AVX2 variant, and the AVX-512 variant's ymm kernel for M <= 8); include only
// from files built with AVX2 flags.
#pragma once
#include "common/x86_intrin.h"

namespace simdtensor {
namespace {
// A chunk's weights as one vector load (8 or 4 floats); vpermps broadcasts lane S in registers.
struct ChunkLanesYmm {
  using P = __m256;
  template <int CH>
  static P load(const float* p) {
    if constexpr (CH == 8) return _mm256_loadu_ps(p);
    else return _mm256_castps128_ps256(_mm_loadu_ps(p));
  }
  template <int S>
  static __m256 lane(P w) { return _mm256_permutevar8x32_ps(w, _mm256_set1_epi32(S)); }
};
}  // namespace
}  // namespace simdtensor
