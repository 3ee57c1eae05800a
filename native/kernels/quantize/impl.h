// The quantize family written once over int/float vector traits T (IVec*), instantiated per ISA.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include "kernels/quantize/quantize.h"

namespace simdtensor {
namespace {

template <class T>
inline typename T::I quantize_vec(typename T::R x, typename T::R inv, typename T::R lo, typename T::R hi,
                                  typename T::I zero) {
  using V = typename T::V;
  typename T::R v = V::mul(x, inv);
  v = V::select(V::isnan(v), V::zero(), v);
  v = V::min(V::max(v, lo), hi);
  return T::add(T::cvt_rne(v), zero);
}

template <class T>
void quantize_impl(size_t n, const float* x, float inv_scale, int32_t zero, int32_t qmin, int32_t qmax, uint8_t* out) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  const auto inv = V::set1(inv_scale), lo = V::set1(float(qmin - zero)), hi = V::set1(float(qmax - zero));
  const auto z = T::set1(zero);
  size_t i = 0;
  for (; i + W <= n; i += W) T::store_bytes(out + i, quantize_vec<T>(V::load(x + i), inv, lo, hi, z), W);
  if (i < n) T::store_bytes(out + i, quantize_vec<T>(V::load_partial(x + i, n - i), inv, lo, hi, z), n - i);
}

template <class T>
void quantize_channels_impl(size_t n, const float* x, const float* inv_scales, const int32_t* zeros, int32_t qmin,
                            int32_t qmax, uint8_t* out) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  const auto qlo = T::set1(qmin), qhi = T::set1(qmax);
  for (size_t i = 0; i < n; i += W) {
    const size_t c = n - i < W ? n - i : W;
    const auto z = c == W ? T::loadi(zeros + i) : T::loadi_partial(zeros + i, c);
    const auto inv = c == W ? V::load(inv_scales + i) : V::load_partial(inv_scales + i, c);
    const auto xv = c == W ? V::load(x + i) : V::load_partial(x + i, c);
    const auto lo = T::to_f32(T::sub(qlo, z)), hi = T::to_f32(T::sub(qhi, z));
    T::store_bytes(out + i, quantize_vec<T>(xv, inv, lo, hi, z), c);
  }
}

template <class T>
void dequantize_impl(size_t n, const uint8_t* q, bool is_unsigned, float scale, int32_t zero, float* out) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  const auto s = V::set1(scale);
  const auto z = T::set1(zero);
  for (size_t i = 0; i < n; i += W) {
    const size_t c = n - i < W ? n - i : W;
    const auto qi = is_unsigned ? T::load_u8(q + i, c) : T::load_s8(reinterpret_cast<const int8_t*>(q) + i, c);
    const auto y = V::mul(T::to_f32(T::sub(qi, z)), s);
    if (c == W) V::store(out + i, y);
    else V::store_partial(out + i, y, c);
  }
}

template <class T>
void dequantize_channels_impl(size_t n, const uint8_t* q, bool is_unsigned, const float* scales, const int32_t* zeros,
                              float* out) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  for (size_t i = 0; i < n; i += W) {
    const size_t c = n - i < W ? n - i : W;
    const auto qi = is_unsigned ? T::load_u8(q + i, c) : T::load_s8(reinterpret_cast<const int8_t*>(q) + i, c);
    const auto z = c == W ? T::loadi(zeros + i) : T::loadi_partial(zeros + i, c);
    const auto s = c == W ? V::load(scales + i) : V::load_partial(scales + i, c);
    const auto y = V::mul(T::to_f32(T::sub(qi, z)), s);
    if (c == W) V::store(out + i, y);
    else V::store_partial(out + i, y, c);
  }
}

template <class T>
bool minmax_impl(size_t n, const float* x, float* mn, float* mx) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  const auto pinf = V::set1(HUGE_VALF), ninf = V::set1(-HUGE_VALF), one = V::set1(1.0f);
  auto vmin = pinf, vmax = ninf, nan = V::zero();
  size_t i = 0;
  for (; i + W <= n; i += W) {
    const auto v = V::load(x + i);
    const auto isn = V::isnan(v);
    nan = V::add(nan, V::select(isn, one, V::zero()));
    vmin = V::min(vmin, V::select(isn, pinf, v));
    vmax = V::max(vmax, V::select(isn, ninf, v));
  }
  float lo = -V::hmax(V::neg(vmin)), hi = V::hmax(vmax);
  bool seen_nan = V::hmax(nan) > 0.0f;
  for (; i < n; i++) {
    const float v = x[i];
    if (v != v) {
      seen_nan = true;
      continue;
    }
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  *mn = lo;
  *mx = hi;
  return seen_nan;
}

template <class T>
constexpr QuantizeVariant make_quantize_variant(const char* name, Isa isa) {
  return QuantizeVariant{name,
                         isa,
                         &quantize_impl<T>,
                         &quantize_channels_impl<T>,
                         &dequantize_impl<T>,
                         &dequantize_channels_impl<T>,
                         &minmax_impl<T>};
}

}  // namespace
}  // namespace simdtensor
