// The conv epilogue written once over vector traits V; each ISA file instantiates it into a variant.
#pragma once
#include <cstddef>
#include "common/vec_math.h"
#include "kernels/f32-conv/f32-conv.h"

namespace simdtensor {
namespace {

template <class V>
struct ConvEpilogueImpl {
  using R = typename V::R;
  static constexpr size_t W = size_t(V::W);

  template <int A>
  static R act(R x, R p0, R p1) {
    if constexpr (A == kConvActRelu) return vrelu<V>(x);
    if constexpr (A == kConvActGelu) return vgelu<V>(x);
    // max then min with NaN kept from x (V::max/min propagate their first operand's NaN).
    if constexpr (A == kConvActClip) return V::min(V::max(x, p0), p1);
    if constexpr (A == kConvActLeakyRelu) return V::select(V::lt(x, V::zero()), V::mul(x, p0), x);
    if constexpr (A == kConvActSigmoid) return V::div(V::set1(1.0f), V::add(V::set1(1.0f), vexp<V>(V::neg(x))));
    if constexpr (A == kConvActHardSigmoid) return V::min(V::max(V::fmadd(x, p0, p1), V::zero()), V::set1(1.0f));
    if constexpr (A == kConvActHardSwish) {
      R h = V::min(V::max(V::fmadd(x, V::set1(1.0f / 6.0f), V::set1(0.5f)), V::zero()), V::set1(1.0f));
      return V::mul(x, h);
    }
    if constexpr (A == kConvActHardSwishAffine) {
      R h = V::min(V::max(V::fmadd(x, V::set1(1.0f / 6.0f), V::set1(0.5f)), V::zero()), V::set1(1.0f));
      return V::fmadd(V::mul(x, h), p0, p1);
    }
    return x;
  }

  // Flat: `count` contiguous values (c and r) in whole vectors and one masked tail.
  template <int A, bool Res>
  static void flat(size_t count, float* c, const float* r, R p0, R p1) {
    size_t j = 0;
    for (; j + W <= count; j += W) {
      R x = V::load(c + j);
      if constexpr (Res) x = V::add(x, V::load(r + j));
      V::store(c + j, act<A>(x, p0, p1));
    }
    if (j < count) {
      R x = V::load_partial(c + j, count - j);
      if constexpr (Res) x = V::add(x, V::load_partial(r + j, count - j));
      V::store_partial(c + j, act<A>(x, p0, p1), count - j);
    }
  }

  // Only the m×n valid values are computed, in whole vectors where possible. A tile whose rows are contiguous
  // (n == ldc: every conv whose channels fit one panel) is one flat run. Otherwise each row's whole vectors run in
  // place and the row tails (n mod W columns) are gathered from all rows into one contiguous buffer, computed flat
  // and scattered back: a masked vector per row would compute W lanes for a few valid ones, and with rows closer
  // than W floats its loads overlap the previous row's masked store, which serializes the rows (a sigmoid over
  // 4 channels cost 3× the conv itself).
  template <int A, bool Res>
  static void run_t(size_t m, size_t n, float* c, size_t ldc, const float* r, size_t ldr, const F32ConvEpilogue& ep) {
    const R p0 = V::set1(ep.p0), p1 = V::set1(ep.p1);
    if (n == ldc && (!Res || ldr == ldc)) return flat<A, Res>(m * n, c, r, p0, p1);
    const size_t full = n - n % W, tail = n - full;
    if (full)
      for (size_t i = 0; i < m; i++) {
        float* ci = c + i * ldc;
        const float* ri = Res ? r + i * ldr : nullptr;
        for (size_t j = 0; j < full; j += W) {
          R x = V::load(ci + j);
          if constexpr (Res) x = V::add(x, V::load(ri + j));
          V::store(ci + j, act<A>(x, p0, p1));
        }
      }
    if (!tail) return;
    constexpr size_t kRows = 16;  // rows gathered per pass (tail < W <= 16 floats each)
    alignas(64) float buf[kRows * 16];
    for (size_t i0 = 0; i0 < m; i0 += kRows) {
      const size_t rows = m - i0 < kRows ? m - i0 : kRows;
      for (size_t i = 0; i < rows; i++) {
        const float* ci = c + (i0 + i) * ldc + full;
        const float* ri = Res ? r + (i0 + i) * ldr + full : nullptr;
        for (size_t j = 0; j < tail; j++) buf[i * tail + j] = Res ? ci[j] + ri[j] : ci[j];
      }
      flat<A, false>(rows * tail, buf, nullptr, p0, p1);
      for (size_t i = 0; i < rows; i++) {
        float* ci = c + (i0 + i) * ldc + full;
        for (size_t j = 0; j < tail; j++) ci[j] = buf[i * tail + j];
      }
    }
  }

  template <bool Res>
  static void run_r(size_t m, size_t n, float* c, size_t ldc, const float* r, size_t ldr, const F32ConvEpilogue& ep) {
    switch (ep.act) {
      case kConvActRelu: return run_t<kConvActRelu, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActGelu: return run_t<kConvActGelu, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActClip: return run_t<kConvActClip, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActLeakyRelu: return run_t<kConvActLeakyRelu, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActSigmoid: return run_t<kConvActSigmoid, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActHardSigmoid: return run_t<kConvActHardSigmoid, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActHardSwish: return run_t<kConvActHardSwish, Res>(m, n, c, ldc, r, ldr, ep);
      case kConvActHardSwishAffine: return run_t<kConvActHardSwishAffine, Res>(m, n, c, ldc, r, ldr, ep);
      default: return run_t<kConvActNone, Res>(m, n, c, ldc, r, ldr, ep);
    }
  }

  static void run(size_t m, size_t n, float* c, size_t ldc, const float* r, size_t ldr, const F32ConvEpilogue& ep) {
    if (r) run_r<true>(m, n, c, ldc, r, ldr, ep);
    else if (ep.act != kConvActNone) run_r<false>(m, n, c, ldc, r, ldr, ep);
  }
};

}  // namespace
}  // namespace simdtensor
