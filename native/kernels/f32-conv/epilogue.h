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
    return x;
  }

  template <int A, bool Res>
  static void run_t(size_t m, size_t n, float* c, size_t ldc, const float* r, size_t ldr, const F32ConvEpilogue& ep) {
    const R p0 = V::set1(ep.p0), p1 = V::set1(ep.p1);
    for (size_t i = 0; i < m; i++) {
      float* ci = c + i * ldc;
      const float* ri = Res ? r + i * ldr : nullptr;
      size_t j = 0;
      for (; j + W <= n; j += W) {
        R x = V::load(ci + j);
        if constexpr (Res) x = V::add(x, V::load(ri + j));
        V::store(ci + j, act<A>(x, p0, p1));
      }
      if (j < n) {
        R x = V::load_partial(ci + j, n - j);
        if constexpr (Res) x = V::add(x, V::load_partial(ri + j, n - j));
        V::store_partial(ci + j, act<A>(x, p0, p1), n - j);
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
