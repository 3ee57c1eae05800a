// Pooling kernels written once over vector traits V; each ISA file instantiates them.
#pragma once
#include <cstddef>
#include <vector>
#include "common/vec_math.h"
#include "kernels/f32-conv-common/window.h"
#include "kernels/f32-pool/f32-pool.h"

namespace simdtensor {
namespace {

template <class V>
struct Pool {
  using R = typename V::R;
  static constexpr size_t W = size_t(V::W);

  // max that returns NaN when either operand is NaN, on every ISA (V::max keeps a NaN of its first operand only).
  static R vmax(R acc, R x) { return V::select(V::isnan(x), x, V::max(acc, x)); }
  static R ld(const float* p, size_t nv) { return nv == W ? V::load(p) : V::load_partial(p, nv); }
  static void st(float* p, R v, size_t nv) {
    if (nv == W) V::store(p, v);
    else V::store_partial(p, v, nv);
  }
  static float hmax(R v) {
    float t[64];
    V::store(t, v);
    float m = t[0];
    for (size_t i = 1; i < W; i++) m = (m != m || t[i] != t[i]) ? (m != m ? m : t[i]) : (t[i] > m ? t[i] : m);
    return m;
  }

  static void nhwc(int kind, const PoolShape& s, const float* x, float* y, size_t oy0, size_t oy1) {
    const size_t C = s.c;
    for (size_t oy = oy0; oy < oy1; oy++) {
      size_t ky0, ky1;
      window_taps(oy, s.sh, s.pt, s.dh, s.kh, s.ih, &ky0, &ky1);
      const ptrdiff_t iy = ptrdiff_t(oy * s.sh) - ptrdiff_t(s.pt);
      const size_t cy = pool_axis_count(oy, s.sh, s.pt, s.pb, s.dh, s.kh, s.ih, s.count_include_pad);
      for (size_t ox = 0; ox < s.ow; ox++) {
        size_t kx0, kx1;
        window_taps(ox, s.sw, s.pl, s.dw, s.kw, s.iw, &kx0, &kx1);
        const ptrdiff_t ix = ptrdiff_t(ox * s.sw) - ptrdiff_t(s.pl);
        float* yp = y + (oy * s.ow + ox) * C;
        const size_t nky = ky1 - ky0, nkx = kx1 - kx0, rs = s.dh * s.iw * C, cs = s.dw * C;
        // An empty window (only possible for shapes the callers reject) reads nothing.
        const float* xp = nky && nkx ? x + size_t(iy + ptrdiff_t(ky0 * s.dh)) * s.iw * C + size_t(ix + ptrdiff_t(kx0 * s.dw)) * C : x;
        if (kind == kPoolMax) {
          for (size_t c = 0; c < C; c += W) {
            const size_t nv = C - c < W ? C - c : W;
            R acc = V::set1(-__builtin_inff());
            for (size_t a = 0; a < nky; a++)
              for (size_t b = 0; b < nkx; b++) acc = vmax(acc, ld(xp + a * rs + b * cs + c, nv));
            st(yp + c, acc, nv);
          }
        } else {
          const R div = V::set1(float(cy * pool_axis_count(ox, s.sw, s.pl, s.pr, s.dw, s.kw, s.iw, s.count_include_pad)));
          for (size_t c = 0; c < C; c += W) {
            const size_t nv = C - c < W ? C - c : W;
            R acc = V::zero();
            for (size_t a = 0; a < nky; a++)
              for (size_t b = 0; b < nkx; b++) acc = V::add(acc, ld(xp + a * rs + b * cs + c, nv));
            st(yp + c, V::div(acc, div), nv);
          }
        }
      }
    }
  }

  // NCHW: the input rows a band of output rows reads, padded (−inf for max, 0 for the average) and split by column
  // phase, as in the depthwise NCHW kernel; the average's per-column divisors follow them in scratch.
  static void nchw(int kind, const PoolShape& s, const float* x, float* y, size_t oy0, size_t oy1, float* scratch) {
    if (oy0 >= oy1) return;
    const size_t pw = s.ow + ((s.kw - 1) * s.dw) / s.sw, nr = (oy1 - oy0 - 1) * s.sh + (s.kh - 1) * s.dh + 1;
    const ptrdiff_t ry0 = ptrdiff_t(oy0 * s.sh) - ptrdiff_t(s.pt);
    const float pad = kind == kPoolMax ? -__builtin_inff() : 0.0f;
    for (size_t q = 0; q < s.sw; q++)
      for (size_t r = 0; r < nr; r++) {
        float* dst = scratch + (q * nr + r) * pw;
        const ptrdiff_t iy = ry0 + ptrdiff_t(r);
        const bool row_in = iy >= 0 && iy < ptrdiff_t(s.ih);
        if (!row_in) {
          for (size_t j = 0; j < pw; j++) dst[j] = pad;
          continue;
        }
        window_phase_row(dst, pw, x + size_t(iy) * s.iw, s.iw, s.sw, q, s.pl, pad);
      }
    float* cnt = scratch + s.sw * nr * pw;
    if (kind == kPoolAvg)
      for (size_t ox = 0; ox < s.ow; ox++)
        cnt[ox] = float(pool_axis_count(ox, s.sw, s.pl, s.pr, s.dw, s.kw, s.iw, s.count_include_pad));
    // Each tap's offset in scratch, computed once (no division per vector).
    const size_t taps = s.kh * s.kw;
    std::vector<size_t> off(taps);
    for (size_t ky = 0; ky < s.kh; ky++)
      for (size_t kx = 0; kx < s.kw; kx++)
        off[ky * s.kw + kx] = (((kx * s.dw) % s.sw) * nr + ky * s.dh) * pw + (kx * s.dw) / s.sw;
    for (size_t oy = oy0; oy < oy1; oy++) {
      float* yr = y + oy * s.ow;
      const float* base = scratch + (oy - oy0) * s.sh * pw;
      const R cy = V::set1(float(pool_axis_count(oy, s.sh, s.pt, s.pb, s.dh, s.kh, s.ih, s.count_include_pad)));
      for (size_t ox = 0; ox < s.ow; ox += W) {
        const size_t nv = s.ow - ox < W ? s.ow - ox : W;
        R acc = kind == kPoolMax ? V::set1(-__builtin_inff()) : V::zero();
        if (kind == kPoolMax)
          for (size_t t = 0; t < taps; t++) acc = vmax(acc, ld(base + off[t] + ox, nv));
        else
          for (size_t t = 0; t < taps; t++) acc = V::add(acc, ld(base + off[t] + ox, nv));
        if (kind == kPoolAvg) acc = V::div(acc, V::mul(cy, ld(cnt + ox, nv)));
        st(yr + ox, acc, nv);
      }
    }
  }

  static void global_nhwc(int kind, size_t hw, size_t C, size_t ldx, const float* x, float* y) {
    const R init = kind == kPoolMax ? V::set1(-__builtin_inff()) : V::zero();
    const R inv = V::set1(float(hw));
    size_t c = 0;
    for (; c + 4 * W <= C; c += 4 * W) {
      R a0 = init, a1 = init, a2 = init, a3 = init;
      for (size_t p = 0; p < hw; p++) {
        const float* xp = x + p * ldx + c;
        if (kind == kPoolMax) {
          a0 = vmax(a0, V::load(xp)), a1 = vmax(a1, V::load(xp + W));
          a2 = vmax(a2, V::load(xp + 2 * W)), a3 = vmax(a3, V::load(xp + 3 * W));
        } else {
          a0 = V::add(a0, V::load(xp)), a1 = V::add(a1, V::load(xp + W));
          a2 = V::add(a2, V::load(xp + 2 * W)), a3 = V::add(a3, V::load(xp + 3 * W));
        }
      }
      if (kind == kPoolAvg) a0 = V::div(a0, inv), a1 = V::div(a1, inv), a2 = V::div(a2, inv), a3 = V::div(a3, inv);
      V::store(y + c, a0), V::store(y + c + W, a1), V::store(y + c + 2 * W, a2), V::store(y + c + 3 * W, a3);
    }
    for (; c < C; c += W) {
      const size_t nv = C - c < W ? C - c : W;
      R a = init;
      for (size_t p = 0; p < hw; p++) a = kind == kPoolMax ? vmax(a, ld(x + p * ldx + c, nv)) : V::add(a, ld(x + p * ldx + c, nv));
      st(y + c, kind == kPoolAvg ? V::div(a, inv) : a, nv);
    }
  }

  static void global_nchw(int kind, size_t hw, size_t C, const float* x, float* y) {
    for (size_t c = 0; c < C; c++) {
      const float* xp = x + c * hw;
      if (kind == kPoolMax) {
        R a0 = V::set1(-__builtin_inff()), a1 = a0;
        size_t i = 0;
        for (; i + 2 * W <= hw; i += 2 * W) a0 = vmax(a0, V::load(xp + i)), a1 = vmax(a1, V::load(xp + i + W));
        for (; i < hw; i += W) a0 = vmax(a0, hw - i >= W ? V::load(xp + i) : pad_tail(xp + i, hw - i));
        y[c] = hmax(vmax(a0, a1));
      } else {
        R a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
        size_t i = 0;
        for (; i + 4 * W <= hw; i += 4 * W) {
          a0 = V::add(a0, V::load(xp + i)), a1 = V::add(a1, V::load(xp + i + W));
          a2 = V::add(a2, V::load(xp + i + 2 * W)), a3 = V::add(a3, V::load(xp + i + 3 * W));
        }
        for (; i < hw; i += W) a0 = V::add(a0, ld(xp + i, hw - i < W ? hw - i : W));
        y[c] = V::hsum(V::add(V::add(a0, a1), V::add(a2, a3))) / float(hw);
      }
    }
  }
  // The last partial vector of a plane, lanes past n set to −inf (so they never win the max).
  static R pad_tail(const float* p, size_t n) {
    float t[64];
    for (size_t i = 0; i < W; i++) t[i] = i < n ? p[i] : -__builtin_inff();
    return V::load(t);
  }

  static constexpr F32PoolVariant make(const char* name, Isa isa) {
    return F32PoolVariant{name, isa, &nhwc, &nchw, &global_nhwc, &global_nchw};
  }
};

}  // namespace
}  // namespace simdtensor
