// The convolution gradient loops (runtime/conv/conv_backward.h) against plain scatter-form references: im2col rows,
// depthwise filter and input gradients, over odd geometries (strides, dilations, asymmetric pads, multipliers),
// one and several threads, inputs flush against the end of their buffers.
#include <vector>

#include "runtime/conv/conv_backward.h"
#include "runtime/core/parallel.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
constexpr float kTol = 1e-4f;  // relative to the largest |value| of the reference (float sums in another order)

struct Case {
  size_t n, ih, iw, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, mult;
};
const Case kCases[] = {
    {1, 5, 7, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   {2, 9, 11, 5, 3, 2, 2, 1, 1, 1, 1, 0, 1, 1, 1},
    {1, 8, 8, 67, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1},  {3, 7, 10, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 3},
    {2, 10, 9, 2, 4, 3, 3, 2, 1, 1, 0, 0, 0, 0, 2},  {1, 6, 7, 130, 2, 2, 1, 1, 1, 1, 1, 0, 2, 1, 1},
    {2, 5, 5, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},   {1, 4, 4, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},
};

ConvBackGeom geom(const Case& k) {
  const size_t oh = (k.ih + k.pt + k.pb - (k.dh * (k.kh - 1) + 1)) / k.sh + 1;
  const size_t ow = (k.iw + k.pl + k.pr - (k.dw * (k.kw - 1) + 1)) / k.sw + 1;
  return {k.n, k.ih, k.iw, k.c, oh, ow, k.kh, k.kw, k.sh, k.sw, k.dh, k.dw, k.pt, k.pl, k.mult};
}

// Calls f(b, oy, ox, ky, kx, iy, ix) for every tap that reads inside x.
template <class F>
void for_taps(const ConvBackGeom& g, F&& f) {
  for (size_t b = 0; b < g.n; b++)
    for (size_t oy = 0; oy < g.oh; oy++)
      for (size_t ox = 0; ox < g.ow; ox++)
        for (size_t ky = 0; ky < g.kh; ky++)
          for (size_t kx = 0; kx < g.kw; kx++) {
            const long iy = long(oy * g.sh + ky * g.dh) - long(g.pt), ix = long(ox * g.sw + kx * g.dw) - long(g.pl);
            if (iy >= 0 && iy < long(g.ih) && ix >= 0 && ix < long(g.iw)) f(b, oy, ox, ky, kx, size_t(iy), size_t(ix));
          }
}

void fill(float* p, size_t n, sttest::Rng& rng) {
  for (size_t i = 0; i < n; i++) p[i] = rng.uniform();
}

void expect_close(const float* got, const std::vector<float>& want, const char* what, size_t ci, int threads) {
  float scale = 1e-6f, worst = 0;
  for (float v : want) scale = std::fmax(scale, std::fabs(v));
  for (size_t i = 0; i < want.size(); i++) worst = std::fmax(worst, std::fabs(got[i] - want[i]));
  CHECK(worst <= kTol * scale, "%s case %zu threads %d: worst |error| %g (scale %g)", what, ci, threads, double(worst), double(scale));
}
}  // namespace

TEST(conv_backward_matches_reference) {
  const int saved = num_threads();
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    sttest::Rng rng(5);
    for (size_t ci = 0; ci < sizeof(kCases) / sizeof(kCases[0]); ci++) {
      const ConvBackGeom g = geom(kCases[ci]);
      const size_t cm = g.c * g.mult, K = g.kh * g.kw * g.c, P = g.n * g.oh * g.ow;
      sttest::Flush<float> x(g.n * g.ih * g.iw * g.c), dy(P * cm), w(g.kh * g.kw * cm);
      fill(x.data(), g.n * g.ih * g.iw * g.c, rng);
      fill(dy.data(), P * cm, rng);
      fill(w.data(), g.kh * g.kw * cm, rng);

      // im2col: all rows, then a middle slice of rows.
      std::vector<float> want(P * K, 0.0f);
      for_taps(g, [&](size_t b, size_t oy, size_t ox, size_t ky, size_t kx, size_t iy, size_t ix) {
        for (size_t c = 0; c < g.c; c++)
          want[((b * g.oh + oy) * g.ow + ox) * K + (ky * g.kw + kx) * g.c + c] = x[((b * g.ih + iy) * g.iw + ix) * g.c + c];
      });
      sttest::Flush<float> cols(P * K);
      for (size_t i = 0; i < P * K; i++) cols[i] = 777.0f;  // padding taps must be written as 0
      f32_im2col_nhwc(g, x.data(), 0, P, cols.data());
      size_t bad = 0;
      for (size_t i = 0; i < P * K; i++) bad += cols[i] != want[i];
      CHECK(bad == 0, "im2col case %zu threads %d: %zu wrong", ci, threads, bad);
      if (P > 2) {
        const size_t r0 = P / 3, rows = P - r0 - 1;
        sttest::Flush<float> part(rows * K);
        f32_im2col_nhwc(g, x.data(), r0, rows, part.data());
        bad = 0;
        for (size_t i = 0; i < rows * K; i++) bad += part[i] != want[r0 * K + i];
        CHECK(bad == 0, "im2col slice case %zu threads %d: %zu wrong", ci, threads, bad);
      }

      // Depthwise filter gradient.
      std::vector<float> wantw(g.kh * g.kw * cm, 0.0f);
      for_taps(g, [&](size_t b, size_t oy, size_t ox, size_t ky, size_t kx, size_t iy, size_t ix) {
        for (size_t j = 0; j < cm; j++)
          wantw[(ky * g.kw + kx) * cm + j] += x[((b * g.ih + iy) * g.iw + ix) * g.c + j / g.mult] * dy[((b * g.oh + oy) * g.ow + ox) * cm + j];
      });
      sttest::Flush<float> dw(g.kh * g.kw * cm);
      f32_dwconv_backward_filter_nhwc(g, x.data(), dy.data(), dw.data());
      expect_close(dw.data(), wantw, "dw filter", ci, threads);

      // Depthwise input gradient (scatter form here, gather form in the runtime).
      std::vector<float> wantx(g.n * g.ih * g.iw * g.c, 0.0f);
      for_taps(g, [&](size_t b, size_t oy, size_t ox, size_t ky, size_t kx, size_t iy, size_t ix) {
        for (size_t j = 0; j < cm; j++)
          wantx[((b * g.ih + iy) * g.iw + ix) * g.c + j / g.mult] += w[(ky * g.kw + kx) * cm + j] * dy[((b * g.oh + oy) * g.ow + ox) * cm + j];
      });
      sttest::Flush<float> dx(g.n * g.ih * g.iw * g.c);
      for (size_t i = 0; i < wantx.size(); i++) dx[i] = 777.0f;  // every element must be overwritten
      f32_dwconv_backward_input_nhwc(g, w.data(), dy.data(), dx.data());
      expect_close(dx.data(), wantx, "dw input", ci, threads);
    }
  }
  set_num_threads(saved);
}
