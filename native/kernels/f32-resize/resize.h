// Resize kernels written once over vector traits V; each ISA file instantiates them.
#pragma once
#include <cstddef>
#include <cstring>
#include "kernels/f32-resize/f32-resize.h"

namespace simdtensor {
namespace {

template <class V>
struct Resize {
  using R = typename V::R;
  static constexpr size_t W = size_t(V::W);

  static R lerp(R a, R b, R f) { return V::fmadd(V::sub(b, a), f, a); }

  static void nhwc(int mode, const ResizeShape& s, const ResizeAxes& t, const float* x, float* y, size_t oy0,
                   size_t oy1) {
    const size_t C = s.c, row = s.iw * C;
    for (size_t oy = oy0; oy < oy1; oy++) {
      float* yp = y + oy * s.ow * C;
      const float* r0 = x + size_t(t.y0[oy]) * row;
      if (mode == kResizeNearest) {
        for (size_t ox = 0; ox < s.ow; ox++) std::memcpy(yp + ox * C, r0 + size_t(t.x0[ox]) * C, C * sizeof(float));
        continue;
      }
      const float* r1 = x + size_t(t.y1[oy]) * row;
      const R fy = V::set1(t.fy[oy]);
      for (size_t ox = 0; ox < s.ow; ox++, yp += C) {
        const size_t a = size_t(t.x0[ox]) * C, b = size_t(t.x1[ox]) * C;
        const R fx = V::set1(t.fx[ox]);
        size_t c = 0;
        for (; c + W <= C; c += W) {
          const R top = lerp(V::load(r0 + a + c), V::load(r0 + b + c), fx);
          const R bot = lerp(V::load(r1 + a + c), V::load(r1 + b + c), fx);
          V::store(yp + c, lerp(top, bot, fy));
        }
        if (c < C) {
          const size_t n = C - c;
          const R top = lerp(V::load_partial(r0 + a + c, n), V::load_partial(r0 + b + c, n), fx);
          const R bot = lerp(V::load_partial(r1 + a + c, n), V::load_partial(r1 + b + c, n), fx);
          V::store_partial(yp + c, lerp(top, bot, fy), n);
        }
      }
    }
  }

  // Horizontal pass of one input row into h[ow] (a gather: scalar, the tables decide the addresses).
  static void hrow(const ResizeShape& s, const ResizeAxes& t, const float* r, float* h) {
    for (size_t ox = 0; ox < s.ow; ox++) {
      const float a = r[t.x0[ox]], b = r[t.x1[ox]];
      h[ox] = (b - a) * t.fx[ox] + a;
    }
  }

  static void nchw(int mode, const ResizeShape& s, const ResizeAxes& t, const float* x, float* y, size_t oy0,
                   size_t oy1, float* scratch) {
    if (mode == kResizeNearest) {
      for (size_t oy = oy0; oy < oy1; oy++) {
        const float* r = x + size_t(t.y0[oy]) * s.iw;
        float* yr = y + oy * s.ow;
        if (oy > oy0 && t.y0[oy] == t.y0[oy - 1]) {
          std::memcpy(yr, yr - s.ow, s.ow * sizeof(float));  // same source row as the row above
          continue;
        }
        for (size_t ox = 0; ox < s.ow; ox++) yr[ox] = r[t.x0[ox]];
      }
      return;
    }
    // Bilinear: both source rows interpolated horizontally once, kept while consecutive output rows share them.
    float* h0 = scratch;
    float* h1 = scratch + s.ow;
    int32_t c0 = -1, c1 = -1;
    for (size_t oy = oy0; oy < oy1; oy++) {
      const int32_t y0 = t.y0[oy], y1 = t.y1[oy];
      if (y0 != c0) {
        if (y0 == c1) {
          float* tmp = h0;
          h0 = h1, h1 = tmp, c0 = c1, c1 = -1;
        } else {
          hrow(s, t, x + size_t(y0) * s.iw, h0), c0 = y0;
        }
      }
      if (y1 != c1) hrow(s, t, x + size_t(y1) * s.iw, h1), c1 = y1;
      const R fy = V::set1(t.fy[oy]);
      float* yr = y + oy * s.ow;
      size_t ox = 0;
      for (; ox + W <= s.ow; ox += W) V::store(yr + ox, lerp(V::load(h0 + ox), V::load(h1 + ox), fy));
      if (ox < s.ow) {
        const size_t n = s.ow - ox;
        V::store_partial(yr + ox, lerp(V::load_partial(h0 + ox, n), V::load_partial(h1 + ox, n), fy), n);
      }
    }
  }

  static constexpr F32ResizeVariant make(const char* name, Isa isa) { return F32ResizeVariant{name, isa, &nhwc, &nchw}; }
};

}  // namespace
}  // namespace simdtensor
