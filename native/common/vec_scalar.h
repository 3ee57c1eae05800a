// f32 "vector" traits of width 1, so the generic kernels also give a portable scalar variant.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace simdtensor {
namespace {

struct VecScalar {
  using R = float;
  using M = bool;
  static constexpr int W = 1;
  static R zero() { return 0.0f; }
  static R set1(float x) { return x; }
  static R load(const float* p) { return *p; }
  static void store(float* p, R v) { *p = v; }
  static R load_partial(const float* p, size_t n) { return n ? *p : 0.0f; }
  static void store_partial(float* p, R v, size_t n) { if (n) *p = v; }
  static R fmadd(R a, R b, R c) { return a * b + c; }
  static R add(R a, R b) { return a + b; }
  static R sub(R a, R b) { return a - b; }
  static R mul(R a, R b) { return a * b; }
  static R div(R a, R b) { return a / b; }
  static R sqrt(R a) { return std::sqrt(a); }
  static R max(R a, R b) { return (a != a) ? a : (a > b ? a : b); }
  static R min(R a, R b) { return (a != a) ? a : (a < b ? a : b); }
  static R abs(R a) { return std::fabs(a); }
  static R neg(R a) { return -a; }
  static M gt(R a, R b) { return a > b; }
  static M lt(R a, R b) { return a < b; }
  static M isnan(R a) { return a != a; }
  static R select(M m, R a, R b) { return m ? a : b; }
  static R round(R a) { return std::nearbyint(a); }
  static R pow2i(R n) {
    // Unsigned arithmetic and a NaN guard: the vector versions don't trap, and neither may this one (UBSan).
    const int32_t e = (n == n && n > -200.0f && n < 200.0f) ? int32_t(n) : 0;
    const uint32_t bits = uint32_t(e + 127) << 23;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  static R ldexp(R p, R n) { return mul(p, pow2i(n)); }  // p·2^n, n integral in [-126, 127]; 0 at n = -127
  static constexpr float kLdexpZeroN = -127.0f;
  static float hsum(R v) { return v; }
  static float hmax(R v) { return v; }
  static void prefetch(const void*) {}
};

}  // namespace
}  // namespace simdtensor
