// Training kernels written once over vector traits V (the common traits, sqrt included); each ISA file
// instantiates them into a variant. Integer work (dropout's hash, argmax, transpose) is plain C++ that the
// compiler vectorises under each file's flags.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>
#include "common/vec_math.h"
#include "kernels/f32-train/f32-train.h"

namespace simdtensor {
namespace {

template <class V>
struct Train {
  using R = typename V::R;
  static constexpr size_t W = size_t(V::W);

  // Calls f(i, lanes) over [0, n) in vector steps, the last one partial.
  template <class F>
  static void each(size_t n, F f) {
    size_t i = 0;
    for (; i + W <= n; i += W) f(i, W);
    if (i < n) f(i, n - i);
  }

  static void relu_backward(size_t n, const float* y, const float* dy, float* dx) {
    each(n, [&](size_t i, size_t k) {
      R v = V::load_partial(y + i, k);
      V::store_partial(dx + i, V::select(V::gt(v, V::zero()), V::load_partial(dy + i, k), V::zero()), k);
    });
  }

  static void gelu_backward(size_t n, const float* x, const float* dy, float* dx) {
    const R half = V::set1(0.5f), one = V::set1(1.0f), rsqrt2 = V::set1(0.70710678118654752f);
    const R mhalf = V::set1(-0.5f), rsqrt2pi = V::set1(0.39894228040143268f);
    each(n, [&](size_t i, size_t k) {
      R v = V::load_partial(x + i, k);
      R cdf = V::mul(half, V::add(one, verf<V>(V::mul(v, rsqrt2))));
      R pdf = V::mul(rsqrt2pi, vexp<V>(V::mul(mhalf, V::mul(v, v))));
      R d = V::fmadd(v, pdf, cdf);
      V::store_partial(dx + i, V::mul(V::load_partial(dy + i, k), d), k);
    });
  }

  static double softmax_xent(size_t rows, size_t cols, const float* z, float inv_temp, const int32_t* labels,
                             const float* target, float scale, float* grad, bool accumulate) {
    thread_local std::vector<float> scratch;
    if (scratch.size() < cols) scratch.resize(cols);
    float* e = scratch.data();
    const R it = V::set1(inv_temp), vs = V::set1(scale);
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
      const float* zr = z + r * cols;
      // inv_temp > 0, so max(z·it) = max(z)·it. Full vectors, then the tail in scalar (NaN wins throughout).
      R m = V::set1(-__builtin_inff());
      size_t i0 = 0;
      for (; i0 + W <= cols; i0 += W) m = V::max(V::load(zr + i0), m);
      float mx = V::hmax(m);
      for (; i0 < cols; i0++) mx = (zr[i0] != zr[i0]) ? zr[i0] : (zr[i0] > mx ? zr[i0] : mx);
      mx *= inv_temp;
      const R vm = V::set1(mx);
      R acc = V::zero();
      float sum = 0;
      each(cols, [&](size_t i, size_t k) {
        R ev = vexp<V>(V::sub(V::mul(V::load_partial(zr + i, k), it), vm));
        V::store_partial(e + i, ev, k);
        if (k == W) acc = V::add(acc, ev);
        else
          for (size_t t = 0; t < k; t++) sum += e[i + t];
      });
      sum += V::hsum(acc);
      const float lse = mx + std::log(sum);  // log Σ exp(z·it)
      float* gr = grad ? grad + r * cols : nullptr;
      const R p_scale = V::set1(scale / sum);
      if (labels) {
        const size_t l = size_t(labels[r]);
        total += double(lse) - double(zr[l]) * inv_temp;
        if (gr) {
          each(cols, [&](size_t i, size_t k) {
            R g = V::mul(V::load_partial(e + i, k), p_scale);
            if (accumulate) g = V::add(g, V::load_partial(gr + i, k));
            V::store_partial(gr + i, g, k);
          });
          gr[l] -= scale;
        }
      } else {
        const float* tr = target + r * cols;
        // KL = Σ t·log t − Σ t·(z·it) + lse·Σ t; the entropy term is a scalar loop (log has no vector form here).
        R tz = V::zero(), ts = V::zero();
        each(cols, [&](size_t i, size_t k) {
          R t = V::load_partial(tr + i, k);
          tz = V::fmadd(t, V::load_partial(zr + i, k), tz);
          ts = V::add(ts, t);
          if (gr) {
            R g = V::sub(V::mul(V::load_partial(e + i, k), p_scale), V::mul(vs, t));
            if (accumulate) g = V::add(g, V::load_partial(gr + i, k));
            V::store_partial(gr + i, g, k);
          }
        });
        double tlogt = 0;
        for (size_t i = 0; i < cols; i++)
          if (tr[i] > 0) tlogt += double(tr[i]) * std::log(double(tr[i]));
        total += tlogt - double(V::hsum(tz)) * inv_temp + double(lse) * double(V::hsum(ts));
      }
    }
    return total;
  }

  static void layernorm_backward(size_t rows, size_t cols, const float* x, const float* gamma, const float* dy,
                                 float eps, float* dx, float* dgamma, float* dbeta) {
    if (dgamma)
      for (size_t c = 0; c < cols; c++) dgamma[c] = 0;
    if (dbeta)
      for (size_t c = 0; c < cols; c++) dbeta[c] = 0;
    const float inv_n = 1.0f / float(cols);
    for (size_t r = 0; r < rows; r++) {
      const float* xr = x + r * cols;
      const float* dr = dy + r * cols;
      float* o = dx + r * cols;
      R s = V::zero();
      each(cols, [&](size_t i, size_t k) { s = V::add(s, V::load_partial(xr + i, k)); });
      const float mean = V::hsum(s) * inv_n;
      const R vm = V::set1(mean);
      // Variance as the forward kernel computes it: full vectors, then the tail in scalar.
      R q = V::zero();
      size_t i0 = 0;
      for (; i0 + W <= cols; i0 += W) {
        R d = V::sub(V::load(xr + i0), vm);
        q = V::fmadd(d, d, q);
      }
      float sq = V::hsum(q);
      for (; i0 < cols; i0++) sq += (xr[i0] - mean) * (xr[i0] - mean);
      const float rstd = 1.0f / std::sqrt(sq * inv_n + eps);
      const R vr = V::set1(rstd);
      // a = Σ γ·dy, b = Σ γ·dy·x̂ (tail lanes load dy = 0, so they add nothing).
      R va = V::zero(), vb = V::zero();
      each(cols, [&](size_t i, size_t k) {
        R xh = V::mul(V::sub(V::load_partial(xr + i, k), vm), vr);
        R d = V::load_partial(dr + i, k);
        R g = gamma ? V::mul(d, V::load_partial(gamma + i, k)) : d;
        va = V::add(va, g);
        vb = V::fmadd(g, xh, vb);
        if (dgamma) V::store_partial(dgamma + i, V::fmadd(d, xh, V::load_partial(dgamma + i, k)), k);
        if (dbeta) V::store_partial(dbeta + i, V::add(d, V::load_partial(dbeta + i, k)), k);
      });
      const R a = V::set1(V::hsum(va) * inv_n), b = V::set1(V::hsum(vb) * inv_n);
      each(cols, [&](size_t i, size_t k) {
        R xh = V::mul(V::sub(V::load_partial(xr + i, k), vm), vr);
        R d = V::load_partial(dr + i, k);
        R g = gamma ? V::mul(d, V::load_partial(gamma + i, k)) : d;
        V::store_partial(o + i, V::mul(vr, V::sub(V::sub(g, a), V::mul(xh, b))), k);
      });
    }
  }

  static void sgd(size_t n, float* w, const float* g, float* v, float lr, float momentum, float wd, bool nesterov,
                  const float* mask) {
    const R vlr = V::set1(lr), vmom = V::set1(momentum), vwd = V::set1(wd);
    each(n, [&](size_t i, size_t k) {
      R wv = V::load_partial(w + i, k);
      R gv = V::fmadd(vwd, wv, V::load_partial(g + i, k));
      R step = gv;
      if (v) {
        R vv = V::fmadd(vmom, V::load_partial(v + i, k), gv);
        V::store_partial(v + i, vv, k);
        step = nesterov ? V::fmadd(vmom, vv, gv) : vv;
      }
      wv = V::sub(wv, V::mul(vlr, step));
      if (mask) wv = V::mul(wv, V::load_partial(mask + i, k));
      V::store_partial(w + i, wv, k);
    });
  }

  static void adamw(size_t n, float* w, const float* g, float* m, float* v, float lr, float b1, float b2, float eps,
                    float wd, float bc1, float bc2, const float* mask) {
    const R decay = V::set1(1.0f - lr * wd), vb1 = V::set1(b1), vb2 = V::set1(b2);
    const R c1 = V::set1(1.0f - b1), c2 = V::set1(1.0f - b2), veps = V::set1(eps);
    const R step = V::set1(lr / bc1), rbc2 = V::set1(1.0f / bc2);
    each(n, [&](size_t i, size_t k) {
      R gv = V::load_partial(g + i, k);
      R mv = V::fmadd(vb1, V::load_partial(m + i, k), V::mul(c1, gv));
      R vv = V::fmadd(vb2, V::load_partial(v + i, k), V::mul(c2, V::mul(gv, gv)));
      V::store_partial(m + i, mv, k);
      V::store_partial(v + i, vv, k);
      R den = V::add(V::sqrt(V::mul(vv, rbc2)), veps);
      R wv = V::sub(V::mul(V::load_partial(w + i, k), decay), V::div(V::mul(step, mv), den));
      if (mask) wv = V::mul(wv, V::load_partial(mask + i, k));
      V::store_partial(w + i, wv, k);
    });
  }

  static void dropout(size_t n, const float* x, float p, uint64_t seed, float* mask, float* out) {
    const float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (size_t i = 0; i < n; i++) mask[i] = f32_train_uniform(seed, i) >= p ? keep : 0.0f;
    each(n, [&](size_t i, size_t k) {
      V::store_partial(out + i, V::mul(V::load_partial(x + i, k), V::load_partial(mask + i, k)), k);
    });
  }

  static void transpose(size_t rows, size_t cols, const float* x, float* out) {
    constexpr size_t B = 16;  // a 16×16 tile of floats is 1 KiB in and out: both sides stay in L1
    for (size_t r0 = 0; r0 < rows; r0 += B)
      for (size_t c0 = 0; c0 < cols; c0 += B) {
        const size_t r1 = r0 + B < rows ? r0 + B : rows, c1 = c0 + B < cols ? c0 + B : cols;
        for (size_t c = c0; c < c1; c++)
          for (size_t r = r0; r < r1; r++) out[c * rows + r] = x[r * cols + c];
      }
  }

  static void argmax(size_t rows, size_t cols, const float* x, int32_t* out) {
    for (size_t r = 0; r < rows; r++) {
      const float* xr = x + r * cols;
      size_t best = 0;
      for (size_t c = 1; c < cols; c++) {
        if (xr[best] != xr[best]) break;
        if (xr[c] > xr[best] || xr[c] != xr[c]) best = c;
      }
      out[r] = int32_t(best);
    }
  }

  static constexpr F32TrainVariant make(const char* name, Isa isa) {
    return F32TrainVariant{name,  isa,    &relu_backward, &gelu_backward, &softmax_xent, &layernorm_backward,
                           &sgd,  &adamw, &dropout,       &transpose,     &argmax};
  }
};

}  // namespace
}  // namespace simdtensor
