// Transcendentals written once over any vector traits V (exp, erf, gelu), so every ISA rounds the same way.
#pragma once
#include <cstddef>

namespace simdtensor {
namespace {

// e^r for the reduced argument of x (clamped to [-87.3, 88.7] by the caller): x = n*ln2 + r (Cody-Waite), and a
// degree-6 polynomial on r. Returns the polynomial; n is written to `n`. Shared by vexp and vexp_nonpos, so both
// round alike.
template <class V>
inline typename V::R vexp_reduced(typename V::R xc, typename V::R& n) {
  using R = typename V::R;
  n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  R r = V::fmadd(n, V::set1(-0.693359375f), xc);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  R p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  R r2 = V::mul(r, r);
  return V::fmadd(p, r2, V::add(r, V::set1(1.0f)));
}

// exp(x): Cody-Waite range reduction x = n*ln2 + r, degree-6 polynomial on r; |rel err| < 2 ulp over
// [-87.3, 88.7]. Above: +Inf; below: 0; NaN stays NaN.
template <class V>
inline typename V::R vexp(typename V::R x) {
  using R = typename V::R;
  const R hi = V::set1(88.72283f), lo = V::set1(-87.33654f);
  R n;
  R p = vexp_reduced<V>(V::min(V::max(x, lo), hi), n);
  // n can reach 128 at the top of the range: split the scale to stay in pow2i's domain.
  R n1 = V::round(V::mul(n, V::set1(0.5f)));
  R n2 = V::sub(n, n1);
  R res = V::ldexp(V::ldexp(p, n1), n2);
  res = V::select(V::gt(x, hi), V::set1(__builtin_inff()), res);
  res = V::select(V::lt(x, lo), V::zero(), res);
  return V::select(V::isnan(x), x, res);
}

// exp(x) for x <= 0 (softmax's x - max, erf's -x^2): bit-identical to vexp there (n >= -126 keeps 2^n in pow2i's
// domain, and p*2^n rounds once, as vexp's two exact-then-rounding steps do), with a third fewer operations: no
// upper clamp, one scale, and no NaN select (a NaN x passes V::max, which keeps its first operand, and the
// polynomial, so it comes out NaN). Positive x must not be passed (2^n would leave pow2i's domain above 127).
template <class V>
inline typename V::R vexp_nonpos(typename V::R x) {
  using R = typename V::R;
  const R lo = V::set1(-87.33654f);
  R n;
  R p = vexp_reduced<V>(V::max(x, lo), n);
  return V::select(V::lt(x, lo), V::zero(), V::ldexp(p, n));
}

// 2^d for d <= 0 (the attention softmax: d = log2(e)·(t − max t), eltwise.h): d = n + f, n = round(d)
// (f exact, |f| <= 1/2), a degree-6 polynomial for 2^f (fitted to the relative error, 1.3 ulp in float), times 2^n
// by V::ldexp. d is clamped at V::kLdexpZeroN, where the result is exactly 0 (masked keys), so no select is needed:
// 10 vector operations where vexp_nonpos takes 16. NaN stays NaN (V::max keeps its first operand's NaN).
template <class V>
inline typename V::R vexp2_nonpos(typename V::R d) {
  using R = typename V::R;
  const R dc = V::max(d, V::set1(V::kLdexpZeroN));
  const R n = V::round(dc);
  const R f = V::sub(dc, n);
  R p = V::fmadd(V::set1(1.534580806e-4f), f, V::set1(1.339993207e-3f));
  p = V::fmadd(p, f, V::set1(9.618489072e-3f));
  p = V::fmadd(p, f, V::set1(5.550328642e-2f));
  p = V::fmadd(p, f, V::set1(2.402264625e-1f));
  p = V::fmadd(p, f, V::set1(6.931471825e-1f));
  p = V::fmadd(p, f, V::set1(1.0f));
  return V::ldexp(p, n);
}

// erf(x): Abramowitz & Stegun 7.1.26, |abs err| <= 1.5e-7; odd symmetry restored by the sign of x.
template <class V>
inline typename V::R verf(typename V::R x) {
  using R = typename V::R;
  R ax = V::abs(x);
  R t = V::div(V::set1(1.0f), V::fmadd(V::set1(0.3275911f), ax, V::set1(1.0f)));
  R p = V::set1(1.061405429f);
  p = V::fmadd(p, t, V::set1(-1.453152027f));
  p = V::fmadd(p, t, V::set1(1.421413741f));
  p = V::fmadd(p, t, V::set1(-0.284496736f));
  p = V::fmadd(p, t, V::set1(0.254829592f));
  p = V::mul(p, t);
  R e = vexp_nonpos<V>(V::neg(V::mul(ax, ax)));
  R y = V::sub(V::set1(1.0f), V::mul(p, e));
  R res = V::select(V::lt(x, V::zero()), V::neg(y), y);
  return V::select(V::isnan(x), x, res);
}

// GELU, erf form (PyTorch's default nn.GELU()): 0.5*x*(1+erf(x/sqrt(2))).
template <class V>
inline typename V::R vgelu(typename V::R x) {
  using R = typename V::R;
  R e = verf<V>(V::mul(x, V::set1(0.70710678118654752f)));
  return V::mul(V::mul(V::set1(0.5f), x), V::add(V::set1(1.0f), e));
}

// c[0] + c[1]·u + … + c[N−1]·u^(N−1), by Horner's rule (N − 1 multiply-adds).
template <class V, size_t N>
inline typename V::R vhorner(typename V::R u, const float (&c)[N]) {
  typename V::R p = V::set1(c[N - 1]);
  for (size_t i = N - 1; i-- > 0;) p = V::fmadd(p, u, V::set1(c[i]));
  return p;
}

// GELU, erf form, for the float32 and int8 GEMM epilogues (the BERT FFN 1's); everything else (convs, sparse, half,
// the standalone Gelu/Erf ops) keeps vgelu's bits. Φ(x) − ½ ≈ r(x) = x·P(x²)/Q(x²), a degree 11/10 odd rational
// fitted for this project to Φ itself (Lawson-weighted least squares on [0, 5.4]: 5.5e-9 in double), and
// GELU = x·(r(xc) + ½) with xc = x clamped to ±5.4146, where r rounds to exactly ±½ with and without FMA: GELU = x
// from there on (1 − Φ is under float's resolution), exactly 0 below −5.4146, +Inf at +Inf, NaN at −Inf (Inf·0, as
// before) and NaN kept.
// Dense sweep of [−10, 10]: GELU within 1.9e-7·|x| with FMA (2.2e-7 without: the scalar traits on x86). 17 vector
// operations, 12 of them multiplies or multiply-adds: the earlier form (erf(x/√2) fitted on [0, 3.92], then
// ½x·(1 + erf) with the erf clamped to ±1) took 20, 15, for the same accuracy (docs/onnx.md, "epi").
template <class V>
inline typename V::R vgelu_rational(typename V::R x) {
  using R = typename V::R;
  // V::max / V::min keep a NaN first operand.
  const R xc = V::min(V::max(x, V::set1(-5.4146f)), V::set1(5.4146f));
  const R u = V::mul(xc, xc);
  static constexpr float kP[] = {0.398942232131958f, 0.033374179154634476f, 0.004650966729968786f,
                                 0.00016434067219961435f, 6.360057341225911e-06f, 2.3384643554891227e-08f};
  static constexpr float kQ[] = {1.0f, 0.25032275915145874f, 0.02837979421019554f, 0.0018590902909636497f,
                                 7.240575359901413e-05f, 1.2165326097601792e-06f};
  const R r = V::div(V::mul(xc, vhorner<V>(u, kP)), vhorner<V>(u, kQ));
  return V::mul(x, V::add(r, V::set1(0.5f)));
}

template <class V>
inline typename V::R vrelu(typename V::R x) {
  // max(x, 0) with NaN kept (V::max propagates NaN from its first operand).
  return V::max(x, V::zero());
}

}  // namespace
}  // namespace simdtensor
