// The quantize family written once over int/float vector traits T (IVec*), instantiated per ISA.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// Rows per block of quantize_rows_impl: their ranges, then their parameters, then their bytes.
constexpr size_t kQuantRowsBlock = 64;

// One row of quantize_rows_impl whose values are all finite (its range was just taken): quantize_vec less the NaN
// test, which cannot fire there (a finite x times a finite 1/scale is finite), the same operations otherwise, so the
// same bytes. Inlined into the row loop: the per-row call into quantize_impl (its own constants, its tail test) cost
// as much as the work on a K = 16–64 row, the short rows of rec's first pointwise convs.
template <class T>
inline void quantize_row_finite(size_t k, const float* x, typename T::R inv, typename T::R lo, typename T::R hi,
                                typename T::I zero, uint8_t* out) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  auto q = [&](typename T::R v) { return T::add(T::cvt_rne(V::min(V::max(V::mul(v, inv), lo), hi)), zero); };
  size_t i = 0;
  for (; i + W <= k; i += W) T::store_bytes(out + i, q(V::load(x + i)), W);
  if (i < k) T::store_bytes(out + i, q(V::load_partial(x + i, k - i)), k - i);
}

template <class T>
void quantize_rows_impl(size_t m, size_t k, const float* x, size_t ldx, bool is_unsigned, uint8_t* out, size_t ldo,
                        float* scales, int32_t* zeros, uint8_t* bad_row) {
  using V = typename T::V;
  constexpr size_t W = T::W;
  const bool symmetric = !is_unsigned;
  int32_t qmin, qmax;
  quant_range(is_unsigned, symmetric, &qmin, &qmax);
  const auto zero = V::zero(), one = V::set1(1.0f);
  const auto minscale = V::set1(kQuantMinScale);
  float lo[kQuantRowsBlock], hi[kQuantRowsBlock], sc[kQuantRowsBlock], inv[kQuantRowsBlock];
  for (size_t r0 = 0; r0 < m; r0 += kQuantRowsBlock) {
    const size_t nr = m - r0 < kQuantRowsBlock ? m - r0 : kQuantRowsBlock;
    auto chk = zero;  // Σ x·0 over the block: NaN once any value is NaN or ±Inf (one reduction per block)
    for (size_t r = 0; r < nr; r++) {
      const float* xr = x + (r0 + r) * ldx;
      // The zero-filled tail lanes cannot change the parameters: both schemes widen the range to include 0.
      // The row's own check sum, added to the block's once: a chain through every row would serialize the rows
      // (one fused multiply-add latency per vector), where the min/max chains restart with each row.
      auto vmin = zero, vmax = zero, rchk = zero;
      size_t i = 0;
      // Four independent chains per reduction over whole 4W-float steps: one chain each ran at the fma's latency
      // (~16 B/cycle), a third of what L1/L2 deliver on the long rows a per-tensor DynamicQuantize passes as one row.
      // min, max and the NaN test do not depend on the order, so the range and the flags are the same.
      if (k >= 4 * W) {
        auto mn1 = zero, mn2 = zero, mn3 = zero, mx1 = zero, mx2 = zero, mx3 = zero;
        auto ck1 = zero, ck2 = zero, ck3 = zero;
        for (; i + 4 * W <= k; i += 4 * W) {
          const auto v0 = V::load(xr + i), v1 = V::load(xr + i + W), v2 = V::load(xr + i + 2 * W);
          const auto v3 = V::load(xr + i + 3 * W);
          vmin = V::min(vmin, v0);
          mn1 = V::min(mn1, v1);
          mn2 = V::min(mn2, v2);
          mn3 = V::min(mn3, v3);
          vmax = V::max(vmax, v0);
          mx1 = V::max(mx1, v1);
          mx2 = V::max(mx2, v2);
          mx3 = V::max(mx3, v3);
          rchk = T::fma(v0, zero, rchk);
          ck1 = T::fma(v1, zero, ck1);
          ck2 = T::fma(v2, zero, ck2);
          ck3 = T::fma(v3, zero, ck3);
        }
        vmin = V::min(V::min(vmin, mn1), V::min(mn2, mn3));
        vmax = V::max(V::max(vmax, mx1), V::max(mx2, mx3));
        rchk = V::add(V::add(rchk, ck1), V::add(ck2, ck3));
      }
      for (; i < k; i += W) {
        const auto v = k - i >= W ? V::load(xr + i) : V::load_partial(xr + i, k - i);
        vmin = V::min(vmin, v);
        vmax = V::max(vmax, v);
        rchk = T::fma(v, zero, rchk);
      }
      chk = V::add(chk, rchk);
      lo[r] = -V::hmax(V::neg(vmin));
      hi[r] = V::hmax(vmax);
    }
    const bool any_bad = V::hmax(V::select(V::isnan(chk), one, zero)) > 0.0f;
    if (any_bad) {
      for (size_t r = 0; r < nr; r++) {
        uint8_t b = 0;
        for (size_t j = 0; j < k; j++) b |= std::isfinite(x[(r0 + r) * ldx + j]) ? 0 : 1;
        bad_row[r0 + r] = b;
      }
    } else {
      std::memset(bad_row + r0, 0, nr);
    }
    // quant_choose_params for W rows at a time (the same IEEE operations, so the same scale and zero point).
    for (size_t r = 0; r < nr; r += W) {
      const size_t c = nr - r < W ? nr - r : W;
      auto l = V::load_partial(lo + r, c), h = V::load_partial(hi + r, c);
      typename T::R scale, z;
      if (symmetric) {
        const auto amax = V::max(V::abs(l), V::abs(h));
        scale = V::select(V::gt(amax, zero), V::max(V::div(amax, V::set1(127.0f)), minscale), one);
        z = zero;
      } else {
        l = V::min(l, zero);
        h = V::max(h, zero);
        const auto ok = V::gt(h, l);
        const auto s = V::max(V::div(V::sub(h, l), V::set1(float(qmax - qmin))), minscale);
        const auto zq = V::min(V::max(V::sub(V::set1(float(qmin)), V::round(V::div(l, s))), V::set1(float(qmin))), V::set1(float(qmax)));
        scale = V::select(ok, s, one);
        z = V::select(ok, zq, zero);
      }
      V::store_partial(sc + r, scale, c);
      V::store_partial(inv + r, V::div(one, scale), c);
      T::storei_partial(zeros + r0 + r, T::cvt_rne(z), c);
    }
    for (size_t r = 0; r < nr; r++) {
      const size_t i = r0 + r;
      scales[i] = any_bad && bad_row[i] ? NAN : sc[r];
      if (any_bad && bad_row[i]) zeros[i] = 0;
    }
    for (size_t r = 0; r < nr; r++) {
      const size_t i = r0 + r;
      if (any_bad && bad_row[i]) {
        for (size_t j = 0; j < k; j++) out[i * ldo + j] = 0;
      } else {
        const int32_t z = zeros[i];
        quantize_row_finite<T>(k, x + i * ldx, V::set1(inv[r]), V::set1(float(qmin - z)), V::set1(float(qmax - z)),
                               T::set1(z), out + i * ldo);
      }
    }
  }
}

template <class T>
constexpr QuantizeVariant make_quantize_variant(const char* name, Isa isa) {
  return QuantizeVariant{name,
                         isa,
                         &quantize_impl<T>,
                         &quantize_channels_impl<T>,
                         &dequantize_impl<T>,
                         &dequantize_channels_impl<T>,
                         &minmax_impl<T>,
                         &quantize_rows_impl<T>};
}

}  // namespace
}  // namespace simdtensor
