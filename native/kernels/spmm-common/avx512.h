// Pieces shared by the AVX-512 sparse kernels (f32-spmm/avx512f.cc, s8-spmm/avx512vnni.cc); include only from
// files built with AVX-512 flags.
#pragma once
#include <cstdint>

#include "common/x86_intrin.h"

namespace simdtensor {
namespace {
// Up to 16 stored indices (16- or 32-bit, as the weights keep them) widened to the int32 lanes of a gather.
inline __m512i spmm_load_idx(const uint16_t* p, __mmask16 k) { return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p)); }
inline __m512i spmm_load_idx(const uint32_t* p, __mmask16 k) { return _mm512_maskz_loadu_epi32(k, p); }
}  // namespace
}  // namespace simdtensor
