// Elementwise kernels written once over vector traits V; each ISA file instantiates them into a variant.
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>
#include "common/vec_math.h"
#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {
namespace {

template <class V>
struct Eltwise {
  using R = typename V::R;
  static constexpr size_t W = size_t(V::W);

  // NaN from b as well: V::max / V::min keep a NaN of their first operand only (x86 semantics).
  static R nan_b(R r, R b) { return V::select(V::isnan(b), b, r); }
  static R op(int o, R a, R b) {
    switch (o) {
      case kBinAdd: return V::add(a, b);
      case kBinSub: return V::sub(a, b);
      case kBinMul: return V::mul(a, b);
      case kBinDiv: return V::div(a, b);
      case kBinMax: return nan_b(V::max(a, b), b);
      case kBinMin: return nan_b(V::min(a, b), b);
      default: {
        R d = V::sub(a, b);
        return V::mul(d, d);
      }
    }
  }

  template <int O>
  static void binary_t(size_t n, const float* a, const float* b, float* out) {
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W)
      for (size_t u = 0; u < 4; u++) V::store(out + i + u * W, op(O, V::load(a + i + u * W), V::load(b + i + u * W)));
    for (; i + W <= n; i += W) V::store(out + i, op(O, V::load(a + i), V::load(b + i)));
    if (i < n) V::store_partial(out + i, op(O, V::load_partial(a + i, n - i), V::load_partial(b + i, n - i)), n - i);
  }
  // a op s for one value s (binary_row with one column: an ONNX x·c with a 0-d constant), all rows in one loop.
  template <int O>
  static void binary_scalar_t(size_t n, const float* a, float s, float* out) {
    const R b = V::set1(s);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W)
      for (size_t u = 0; u < 4; u++) V::store(out + i + u * W, op(O, V::load(a + i + u * W), b));
    for (; i + W <= n; i += W) V::store(out + i, op(O, V::load(a + i), b));
    if (i < n) V::store_partial(out + i, op(O, V::load_partial(a + i, n - i), b), n - i);
  }

  // Calls f(std::integral_constant<int, O>) for the binary op code o.
  template <class F>
  static void with_op(int o, F f) {
    switch (o) {
      case kBinAdd: return f(std::integral_constant<int, kBinAdd>{});
      case kBinSub: return f(std::integral_constant<int, kBinSub>{});
      case kBinMul: return f(std::integral_constant<int, kBinMul>{});
      case kBinDiv: return f(std::integral_constant<int, kBinDiv>{});
      case kBinMax: return f(std::integral_constant<int, kBinMax>{});
      case kBinMin: return f(std::integral_constant<int, kBinMin>{});
      default: return f(std::integral_constant<int, kBinSqDiff>{});
    }
  }

  static void binary(int o, size_t n, const float* a, const float* b, float* out) {
    with_op(o, [&](auto O) { binary_t<decltype(O)::value>(n, a, b, out); });
  }
  static void binary_row(int o, size_t rows, size_t cols, const float* a, const float* row, float* out) {
    if (cols == 1) return with_op(o, [&](auto O) { binary_scalar_t<decltype(O)::value>(rows, a, row[0], out); });
    for (size_t r = 0; r < rows; r++) binary(o, cols, a + r * cols, row, out + r * cols);
  }

  template <class F>
  static void map(size_t n, const float* x, float* out, F f) {
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      R v0 = f(V::load(x + i)), v1 = f(V::load(x + i + W));
      V::store(out + i, v0);
      V::store(out + i + W, v1);
    }
    for (; i + W <= n; i += W) V::store(out + i, f(V::load(x + i)));
    if (i < n) V::store_partial(out + i, f(V::load_partial(x + i, n - i)), n - i);
  }
  static void activation(int act, size_t n, const float* x, float* out) {
    if (act == kActRelu) map(n, x, out, [](R v) { return vrelu<V>(v); });
    else if (act == kActGelu) map(n, x, out, [](R v) { return vgelu<V>(v); });
    else if (x != out) map(n, x, out, [](R v) { return v; });
  }

  // tanh: 1 − 2/(e^{2|x|} + 1) with x's sign; below |x| = 0.0625 the odd Taylor series x − x³/3 + 2x⁵/15 (the
  // exp form loses relative accuracy there). Saturates to ±1; NaN stays NaN.
  static R vtanh(R x) {
    R ax = V::abs(x);
    R e = vexp<V>(V::mul(ax, V::set1(2.0f)));
    R t = V::sub(V::set1(1.0f), V::div(V::set1(2.0f), V::add(e, V::set1(1.0f))));
    t = V::select(V::lt(x, V::zero()), V::neg(t), t);
    R x2 = V::mul(x, x);
    R s = V::mul(x, V::fmadd(x2, V::fmadd(x2, V::set1(2.0f / 15.0f), V::set1(-1.0f / 3.0f)), V::set1(1.0f)));
    t = V::select(V::lt(ax, V::set1(0.0625f)), s, t);
    return V::select(V::isnan(x), x, t);
  }
  static void unary(int o, size_t n, const float* x, float p0, float p1, float* out) {
    const R a = V::set1(p0), b = V::set1(p1), one = V::set1(1.0f), zero = V::zero();
    switch (o) {
      case kUnClip: map(n, x, out, [&](R v) { return V::min(V::max(v, a), b); }); break;
      case kUnLeakyRelu: map(n, x, out, [&](R v) { return V::select(V::gt(v, zero), v, V::mul(v, a)); }); break;
      case kUnSigmoid: map(n, x, out, [&](R v) { return V::div(one, V::add(one, vexp<V>(V::neg(v)))); }); break;
      case kUnTanh: map(n, x, out, [&](R v) { return vtanh(v); }); break;
      case kUnExp: map(n, x, out, [&](R v) { return vexp<V>(v); }); break;
      case kUnSqrt: map(n, x, out, [&](R v) { return V::sqrt(v); }); break;
      case kUnRsqrt: map(n, x, out, [&](R v) { return V::div(one, V::sqrt(v)); }); break;
      case kUnErf: map(n, x, out, [&](R v) { return verf<V>(v); }); break;
      default:
        map(n, x, out, [&](R v) { return V::select(V::gt(v, zero), v, V::mul(a, V::sub(vexp<V>(v), one))); });
        break;
    }
  }

  static float row_max(size_t n, const float* x) {
    R m = V::set1(-__builtin_inff());
    size_t i = 0;
    for (; i + W <= n; i += W) m = V::max(V::load(x + i), m);
    float s = V::hmax(m);
    for (; i < n; i++) s = (x[i] != x[i]) ? x[i] : (x[i] > s ? x[i] : s);
    return s;
  }

  // o = x + row, returning the max of o (NaN as row_max does): the masked softmax's first pass.
  static float add_row_max(size_t n, const float* x, const float* row, float* o) {
    R m = V::set1(-__builtin_inff());
    size_t i = 0;
    for (; i + W <= n; i += W) {
      const R t = V::add(V::load(x + i), V::load(row + i));
      V::store(o + i, t);
      m = V::max(t, m);
    }
    float s = V::hmax(m);
    for (; i < n; i++) {
      const float t = x[i] + row[i];
      o[i] = t;
      s = (t != t) ? t : (t > s ? t : s);
    }
    return s;
  }

  // o = exp(x − mx) over a row (not stored when o is null: the log-softmax keeps x), returning its sum; with Base2,
  // o = 2^d, d = log2(e)·(x − mx) (b2_arg).
  template <bool ScalarTail = false, bool Base2 = false>
  static float exp_sum(size_t cols, const float* xr, float mx, float* o) {
    const R vm = V::set1(mx);
    R acc = V::zero();
    size_t i = 0;
    for (; i + W <= cols; i += W) {
      // x - max <= 0 (or NaN) in every whole vector; the tail below keeps vexp (its padding lanes may exceed 0), or
      // clamps them at 0 for the base-2 form.
      R e = Base2 ? vexp2_nonpos<V>(b2_arg(V::load(xr + i), vm)) : vexp_nonpos<V>(V::sub(V::load(xr + i), vm));
      if (o) V::store(o + i, e);
      acc = V::add(acc, e);
    }
    if (i < cols) {
      // Lanes past cols hold exp(0 − max): zeroed by lane index before the sum (a stored copy zeroed 64 floats and
      // summed them one by one: rec's 40-wide rows spent a fifth of their time there).
      const size_t n = cols - i;
      R e = Base2 ? vexp2_nonpos<V>(V::min(b2_arg(V::load_partial(xr + i, n), vm), V::set1(64.0f)))
                  : vexp<V>(V::sub(V::load_partial(xr + i, n), vm));
      e = V::select(V::lt(V::load(kLaneIndex), V::set1(float(n))), e, V::zero());
      if (o && ScalarTail) {
        // Stored one float at a time: the attention's P·V broadcasts these floats next, and loads from a masked
        // vector store are not forwarded (its 40-key rows ran 12 % slower with the partial store).
        float tmp[16];
        V::store(tmp, e);
        for (size_t t = 0; t < n; t++) o[i + t] = tmp[t];
      } else if (o) {
        V::store_partial(o + i, e, n);
      }
      acc = V::add(acc, e);
    }
    return V::hsum(acc);
  }
  static constexpr float kLaneIndex[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  static_assert(W <= 16, "kLaneIndex covers one vector");

  static void softmax(bool log, size_t rows, size_t cols, const float* x, const float* add_row, float* out) {
    for (size_t r = 0; r < rows; r++) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
      float mx;
      if (add_row) {
        mx = add_row_max(cols, xr, add_row, o);
        xr = o;  // the rest reads the masked row back while it is in L1
      } else {
        mx = row_max(cols, xr);
      }
      const float sum = exp_sum(cols, xr, mx, log ? nullptr : o);
      if (log) {
        const R shift = V::set1(mx + std::log(sum));
        map(cols, xr, o, [shift](R v) { return V::sub(v, shift); });
      } else {
        const R inv = V::set1(1.0f / sum);
        map(cols, o, o, [inv](R v) { return V::mul(v, inv); });
      }
    }
  }

  // softmax_scaled runs in blocks of up to kSoftmaxRows rows (about 16 KiB, L1), pass by pass over the block, its
  // horizontal sums after the block's exp pass: no row's next step waits on its own max or sum. (The same blocking of
  // the plain softmax above measured no change, 1536×128 and rec's 320×40: 0.99–1.02×, so it stays row by row.)
  static constexpr size_t kSoftmaxRows = 16;
  // The exp pass is e^(t − max t) = 2^d, d = log2(e)·(t − max t) (rounded relative to d: scaling t first rounded a
  // −10000-shifted row's logits to 1e-3; and the max itself gets d = 0, 2^0 = 1 exactly, where a multiply-add
  // t·log2(e) − max·log2(e) left it the rounding of max·log2(e), so one unmasked key no longer gave its V row
  // exactly) and vexp2_nonpos: a third fewer operations than vexp_nonpos(t − max t).
  static constexpr float kLog2e = 1.44269504088896341f;
  static R b2_arg(R t, R m) { return V::mul(V::sub(t, m), V::set1(kLog2e)); }
  static size_t softmax_block(size_t cols) {
    const size_t nb = 4096 / (cols ? cols : 1);
    return nb < 1 ? 1 : nb > kSoftmaxRows ? kSoftmaxRows : nb;
  }

  // t = scale·x (+ mask row) into o, returning max t (NaN as row_max does); two max chains.
  static float scale_mask_max(size_t n, const float* x, float scale, const float* mrow, float* o) {
    const R vs = V::set1(scale);
    R m0 = V::set1(-__builtin_inff()), m1 = m0;
    auto t_at = [&](size_t i) { return mrow ? V::fmadd(V::load(x + i), vs, V::load(mrow + i)) : V::mul(V::load(x + i), vs); };
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const R t0 = t_at(i), t1 = t_at(i + W);
      V::store(o + i, t0);
      V::store(o + i + W, t1);
      m0 = V::max(t0, m0);
      m1 = V::max(t1, m1);
    }
    for (; i + W <= n; i += W) {
      const R t0 = t_at(i);
      V::store(o + i, t0);
      m0 = V::max(t0, m0);
    }
    float s = V::hmax(V::max(m0, m1));
    for (; i < n; i++) {
      const float t = mrow ? std::fma(x[i], scale, mrow[i]) : x[i] * scale;
      o[i] = t;
      s = (t != t) ? t : (t > s ? t : s);
    }
    return s;
  }

  static void softmax_scaled(size_t rows, size_t cols, const float* x, float scale, const float* mask,
                             size_t mask_stride, float* out, float* inv_sum) {
    const size_t blk = softmax_block(cols);
    float mx[kSoftmaxRows];
    for (size_t r0 = 0; r0 < rows; r0 += blk) {
      const size_t nb = rows - r0 < blk ? rows - r0 : blk;
      float* ob = out + r0 * cols;
      for (size_t r = 0; r < nb; r++)
        mx[r] = scale_mask_max(cols, x + (r0 + r) * cols, scale, mask ? mask + (r0 + r) * mask_stride : nullptr,
                               ob + r * cols);
      // The exp pass with two sum chains per row, the horizontal sums after the block (no row waits on its sum).
      R acc[kSoftmaxRows];
      float tail[kSoftmaxRows];
      for (size_t r = 0; r < nb; r++) {
        float* o = ob + r * cols;
        const R vm = V::set1(mx[r]);
        R a0 = V::zero(), a1 = V::zero();
        size_t i = 0;
        for (; i + 2 * W <= cols; i += 2 * W) {
          const R e0 = vexp2_nonpos<V>(b2_arg(V::load(o + i), vm)), e1 = vexp2_nonpos<V>(b2_arg(V::load(o + i + W), vm));
          V::store(o + i, e0);
          V::store(o + i + W, e1);
          a0 = V::add(a0, e0);
          a1 = V::add(a1, e1);
        }
        if (i + W <= cols) {
          const R e0 = vexp2_nonpos<V>(b2_arg(V::load(o + i), vm));
          V::store(o + i, e0);
          a0 = V::add(a0, e0);
          i += W;
        }
        acc[r] = V::add(a0, a1);
        tail[r] = i < cols ? exp_sum<true, true>(cols - i, o + i, mx[r], o + i) : 0.0f;
      }
      for (size_t r = 0; r < nb; r++) inv_sum[r0 + r] = 1.0f / (V::hsum(acc[r]) + tail[r]);
    }
  }

  // NR rows at once, each with the arithmetic of one row alone (one accumulator per row, in element order, so the
  // result is the same bits for any NR): the NR sums and squared-deviation sums are independent chains, where one
  // row's chain is bound by the add's latency (a 384-wide row spent ~4x its load time on it). With a residual,
  // t = x + residual goes to out while it is summed and the other two passes read it back from L1.
  template <size_t NR, bool kG, bool kB>
  static void ln_block(size_t cols, const float* x, const float* residual, const float* gamma, const float* beta,
                       float eps, float* out) {
    const float* xr[NR];
    float* o[NR];
    R s[NR];
    for (size_t r = 0; r < NR; r++) {
      xr[r] = x + r * cols;
      o[r] = out + r * cols;
      s[r] = V::zero();
    }
    size_t i = 0;
    if (residual) {
      for (; i + W <= cols; i += W)
        for (size_t r = 0; r < NR; r++) {
          const R t = V::add(V::load(xr[r] + i), V::load(residual + r * cols + i));
          V::store(o[r] + i, t);
          s[r] = V::add(s[r], t);
        }
    } else {
      for (; i + W <= cols; i += W)
        for (size_t r = 0; r < NR; r++) s[r] = V::add(s[r], V::load(xr[r] + i));
    }
    const size_t body = i;
    float mean[NR];
    for (size_t r = 0; r < NR; r++) {
      float sum = V::hsum(s[r]);
      if (residual) {
        const float* rr = residual + r * cols;
        for (i = body; i < cols; i++) sum += (o[r][i] = xr[r][i] + rr[i]);
        xr[r] = o[r];
      } else {
        for (i = body; i < cols; i++) sum += xr[r][i];
      }
      mean[r] = sum / float(cols);
      s[r] = V::zero();
    }
    R vm[NR];
    for (size_t r = 0; r < NR; r++) vm[r] = V::set1(mean[r]);
    for (i = 0; i + W <= cols; i += W)
      for (size_t r = 0; r < NR; r++) {
        const R d = V::sub(V::load(xr[r] + i), vm[r]);
        s[r] = V::fmadd(d, d, s[r]);
      }
    for (size_t r = 0; r < NR; r++) {
      float sq = V::hsum(s[r]);
      for (i = body; i < cols; i++) sq += (xr[r][i] - mean[r]) * (xr[r][i] - mean[r]);
      const float rstd = 1.0f / std::sqrt(sq / float(cols) + eps);
      ln_out<kG, kB>(cols, xr[r], vm[r], V::set1(rstd), gamma, beta, o[r]);
    }
  }
  // o = (x − mean)·rstd [·gamma] [+ beta]; the affine form picked once per call, not per vector.
  template <bool kG, bool kB>
  static void ln_out(size_t n, const float* x, R vm, R vr, const float* gamma, const float* beta, float* o) {
    auto y = [&](R v, R g, R b) {
      R t = V::mul(V::sub(v, vm), vr);
      if constexpr (kG) t = V::mul(t, g);
      if constexpr (kB) t = V::add(t, b);
      return t;
    };
    size_t i = 0;
    for (; i + W <= n; i += W)
      V::store(o + i, y(V::load(x + i), kG ? V::load(gamma + i) : vr, kB ? V::load(beta + i) : vr));
    if (i < n) {
      const size_t nv = n - i;
      V::store_partial(o + i, y(V::load_partial(x + i, nv), kG ? V::load_partial(gamma + i, nv) : vr,
                                kB ? V::load_partial(beta + i, nv) : vr), nv);
    }
  }
  template <bool kG, bool kB>
  static void layernorm_t(size_t rows, size_t cols, const float* x, const float* residual, const float* gamma,
                          const float* beta, float eps, float* out) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4)
      ln_block<4, kG, kB>(cols, x + r * cols, residual ? residual + r * cols : nullptr, gamma, beta, eps, out + r * cols);
    for (; r < rows; r++)
      ln_block<1, kG, kB>(cols, x + r * cols, residual ? residual + r * cols : nullptr, gamma, beta, eps, out + r * cols);
  }
  static void layernorm(size_t rows, size_t cols, const float* x, const float* residual, const float* gamma,
                        const float* beta, float eps, float* out) {
    if (gamma && beta) layernorm_t<true, true>(rows, cols, x, residual, gamma, beta, eps, out);
    else if (gamma) layernorm_t<true, false>(rows, cols, x, residual, gamma, beta, eps, out);
    else if (beta) layernorm_t<false, true>(rows, cols, x, residual, gamma, beta, eps, out);
    else layernorm_t<false, false>(rows, cols, x, residual, gamma, beta, eps, out);
  }

  static constexpr F32EltwiseVariant make(const char* name, Isa isa) {
    return F32EltwiseVariant{name, isa, &binary, &binary_row, &activation, &unary, &softmax, &softmax_scaled, &layernorm};
  }
};

}  // namespace
}  // namespace simdtensor
