// The vector form of the conv epilogue activations (activation.h), written once over traits V.
// Include only from a family's ISA-generic kernel header (it pulls in the anonymous-namespace vector math).
#pragma once
#include "common/vec_math.h"
#include "kernels/f32-conv-common/activation.h"

namespace simdtensor {
namespace {

// Broadcast parameters, built once per kernel call so the per-vector cost is the switch (a predicted branch).
template <class V>
struct ConvActVec {
  using R = typename V::R;
  int code;
  R a, b;
  explicit ConvActVec(const ConvAct& act) : code(act.code), a(V::set1(act.a)), b(V::set1(act.b)) {}

  static R clamp01(R t) { return V::min(V::max(t, V::zero()), V::set1(1.0f)); }  // NaN kept (first operand)
  template <int C>
  R one(R x) const {
    switch (C) {
      case kConvActRelu: return vrelu<V>(x);
      case kConvActGelu: return vgelu<V>(x);
      case kConvActClip: return V::min(V::max(x, a), b);
      case kConvActLeakyRelu: return V::select(V::lt(x, V::zero()), V::mul(x, a), x);
      case kConvActSigmoid: return V::div(V::set1(1.0f), V::add(V::set1(1.0f), vexp<V>(V::neg(x))));
      case kConvActHardSigmoid: return clamp01(V::fmadd(x, a, b));
      case kConvActHardSwish: return V::mul(x, clamp01(V::fmadd(x, V::set1(1.0f / 6.0f), V::set1(0.5f))));
      case kConvActHardSwishAffine:
        return V::fmadd(V::mul(x, clamp01(V::fmadd(x, V::set1(1.0f / 6.0f), V::set1(0.5f)))), a, b);
      default: return x;
    }
  }
  template <int C, int N>
  void each(R* v) const {
    for (int i = 0; i < N; i++) v[i] = one<C>(v[i]);
  }
  // A whole register tile of N vectors: one switch per tile, so the tile never leaves registers for it.
  template <int N>
  void apply(R* v) const {
    switch (code) {
      case kConvActRelu: return each<kConvActRelu, N>(v);
      case kConvActGelu: return each<kConvActGelu, N>(v);
      case kConvActClip: return each<kConvActClip, N>(v);
      case kConvActLeakyRelu: return each<kConvActLeakyRelu, N>(v);
      case kConvActSigmoid: return each<kConvActSigmoid, N>(v);
      case kConvActHardSigmoid: return each<kConvActHardSigmoid, N>(v);
      case kConvActHardSwish: return each<kConvActHardSwish, N>(v);
      case kConvActHardSwishAffine: return each<kConvActHardSwishAffine, N>(v);
      default: return;
    }
  }
  R operator()(R x) const {
    apply<1>(&x);
    return x;
  }
};

}  // namespace
}  // namespace simdtensor
