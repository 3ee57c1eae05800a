// int32 "vector" traits of width 1, the companion of VecScalar: the portable scalar variants use the same
// templates. Arithmetic wraps (done in uint32) like the SIMD lanes, so there is no signed-overflow UB.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include "common/vec_scalar.h"

namespace simdtensor {
namespace {

struct IVecScalar {
  using I = int32_t;
  using V = VecScalar;
  using R = float;
  static constexpr int W = 1;
  static I zero() { return 0; }
  static I set1(int32_t x) { return x; }
  static I loadi(const int32_t* p) { return *p; }
  static I loadi_partial(const int32_t* p, size_t n) { return n ? *p : 0; }
  static void storei(int32_t* p, I v) { *p = v; }
  static void storei_partial(int32_t* p, I v, size_t n) { if (n) *p = v; }
  static I add(I a, I b) { return int32_t(uint32_t(a) + uint32_t(b)); }
  static I sub(I a, I b) { return int32_t(uint32_t(a) - uint32_t(b)); }
  static I mullo(I a, I b) { return int32_t(uint32_t(a) * uint32_t(b)); }
  static R to_f32(I a) { return float(a); }
  // Callers clamp first, so the value is within int32 range; nearbyint rounds half to even (default mode).
  static I cvt_rne(R a) { return int32_t(std::nearbyint(a)); }
  static R fma(R a, R b, R c) { return std::fma(a, b, c); }
  static void store_bytes(void* p, I q, size_t n) { if (n) *static_cast<uint8_t*>(p) = uint8_t(uint32_t(q)); }
  static I load_u8(const uint8_t* p, size_t n) { return n ? int32_t(*p) : 0; }
  static I load_s8(const int8_t* p, size_t n) { return n ? int32_t(*p) : 0; }
};

}  // namespace
}  // namespace simdtensor
