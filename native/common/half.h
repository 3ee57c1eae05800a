// Scalar IEEE binary16 and bfloat16 conversions (round-to-nearest-even, NaN quieted with its payload kept,
// subnormals exact). The reference every SIMD converter is tested against; also used by packing and tails.
#pragma once
#include <cstdint>
#include <cstring>

namespace simdtensor {
namespace {  // internal linkage: included by ISA-flagged files

inline uint32_t f32_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}
inline float f32_from_bits(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

// f32 -> binary16, RNE. |x| >= 65520 (the tie between 65504 and 2^16) becomes Inf; below 2^-14 the result is
// subnormal (rounded in units of 2^-24); NaN keeps its sign and top 10 payload bits and gets the quiet bit
// (what F16C's vcvtps2ph and AArch64 fcvtn do).
inline uint16_t f32_to_f16_scalar(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return uint16_t(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);
  if (ax >= 0x38800000u) {
    uint32_t r = ax - (112u << 23);  // rebias the exponent 127 -> 15
    r += 0xfffu + ((r >> 13) & 1u);  // round the 13 dropped bits to nearest even
    return uint16_t(sign | (r >> 13));
  }
  if (ax <= 0x33000000u) return sign;  // |x| <= 2^-25: the tie at 2^-25 goes to the even 0
  const uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;  // 14..24: m * 2^(e-150) in units of 2^-24
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) q++;  // q may carry into 0x400, the smallest normal: still right
  return uint16_t(sign | q);
}

// binary16 -> f32 (exact). Subnormals are normalised; NaN gets the quiet bit (as vcvtph2ps and fcvtl do).
inline float f16_to_f32_scalar(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return f32_from_bits(sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0u));
  if (e == 0) {
    const float v = float(m) * (1.0f / 16777216.0f);  // m * 2^-24, exact
    return f32_from_bits(sign | f32_bits(v));
  }
  return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

// f32 -> bfloat16, RNE on the low 16 bits (subnormals included: bf16 shares f32's exponent range). NaN keeps
// sign and top payload bits and gets the quiet bit.
inline uint16_t f32_to_bf16_scalar(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// bfloat16 -> f32: the bits are the top half of the f32 (exact; a signalling NaN stays signalling).
inline float bf16_to_f32_scalar(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

}  // namespace
}  // namespace simdtensor
