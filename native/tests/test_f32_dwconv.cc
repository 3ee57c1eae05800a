// Every compiled depthwise-conv variant against the reference: odd channel counts around the vector widths, odd
// spatial sizes, 1x1/3x3/5x5/3x2 kernels, strides 1-3, dilations 1-2, asymmetric pads, every activation, row bands,
// inputs flush against the end of their buffers; then the driver (multiplier, weight layouts, batch, threads).
#include <cmath>
#include <vector>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "runtime/conv/dwconv_driver.h"
#include "runtime/core/parallel.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Float sums of up to 25 products of values in [-1, 1] (FMA order differs from the double reference), then an
// activation whose polynomial exp is good to a few ulp.
constexpr float kDwAbsTol = 3e-5f;
constexpr float kDwRelTol = 1e-5f;

bool close(float got, float want) { return sttest::close_to(got, want, kDwAbsTol, kDwRelTol); }

const size_t kChannels[] = {1, 3, 7, 15, 17, 33, 63, 65};
struct Geo {
  size_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
};
const Geo kGeos[] = {
    {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1, 0, 0, 1, 1},
    {5, 5, 1, 1, 1, 1, 2, 2, 2, 2}, {5, 5, 2, 2, 1, 1, 1, 2, 2, 1}, {3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
    {1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, {3, 2, 3, 1, 1, 2, 0, 1, 2, 0}, {3, 3, 1, 2, 1, 1, 0, 0, 0, 0},
    {5, 5, 1, 1, 1, 1, 0, 0, 0, 0}, {3, 3, 2, 1, 2, 1, 1, 0, 0, 1},
};
const size_t kSizes[][2] = {{1, 1}, {3, 5}, {7, 7}, {9, 13}};
const ConvAct kActs[] = {{kConvActNone, 0, 0},        {kConvActRelu, 0, 0},     {kConvActClip, 0, 6},
                         {kConvActLeakyRelu, 0.1f, 0}, {kConvActSigmoid, 0, 0},  {kConvActHardSigmoid, 0.2f, 0.5f},
                         {kConvActHardSwish, 0, 0},    {kConvActGelu, 0, 0},     {kConvActClip, -0.5f, 0.25f},
                         {kConvActHardSwishAffine, -0.75f, 0.3f}};

bool geometry(const Geo& g, size_t ih, size_t iw, DwconvShape* s, size_t c) {
  const size_t eh = (g.kh - 1) * g.dh + 1, ew = (g.kw - 1) * g.dw + 1;
  if (ih + g.pt + g.pb < eh || iw + g.pl + g.pr < ew) return false;
  *s = DwconvShape{c, ih, iw, (ih + g.pt + g.pb - eh) / g.sh + 1, (iw + g.pl + g.pr - ew) / g.sw + 1,
                   g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl};
  return true;
}
}  // namespace

TEST(f32_dwconv_variants_match_reference) {
  const F32DwconvVariant& R = f32_dwconv_reference;
  size_t cases = 0;
  sttest::for_each_runnable(f32_dwconv_table, 7, [&](const F32DwconvVariant& v, sttest::Rng& rng) {
    size_t k = 0;
    for (size_t c : kChannels)
      for (const Geo& g : kGeos)
        for (const auto& hw : kSizes) {
          DwconvShape s;
          if (!geometry(g, hw[0], hw[1], &s, c)) continue;
          const ConvAct act = kActs[k++ % (sizeof(kActs) / sizeof(kActs[0]))];
          const bool with_bias = k % 3 != 0;
          const size_t nx = s.ih * s.iw * c, ny = s.oh * s.ow * c, nw = s.kh * s.kw * c;
          sttest::Flush<float> x(nx), w(nw), b(c), y(ny), yr(ny);
          for (size_t i = 0; i < nx; i++) x[i] = rng.uniform();
          for (size_t i = 0; i < nw; i++) w[i] = rng.uniform();
          for (size_t i = 0; i < c; i++) b[i] = rng.uniform();
          if (k % 5 == 0 && nx > 4) x[nx / 2] = NAN;
          // NHWC in two row bands (the split the driver makes), compared with one reference pass.
          const size_t mid = s.oh / 2;
          v.nhwc(s, x.data(), w.data(), with_bias ? b.data() : nullptr, act, y.data(), 0, mid);
          v.nhwc(s, x.data(), w.data(), with_bias ? b.data() : nullptr, act, y.data(), mid, s.oh);
          R.nhwc(s, x.data(), w.data(), with_bias ? b.data() : nullptr, act, yr.data(), 0, s.oh);
          for (size_t i = 0; i < ny; i++)
            CHECK(close(y[i], yr[i]), "%s nhwc c=%zu %zux%zu k%zux%zu s%zu,%zu d%zu,%zu p%zu,%zu act=%d i=%zu got %g want %g",
                  v.name, c, s.ih, s.iw, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, act.code, i, y[i], yr[i]);
          // NCHW: the first channel plane of x as an image (weights [kh][kw] of channel 0, read with stride c in
          // the NHWC layout, so copy them out).
          if (c <= 3) {
            const size_t plane = s.ih * s.iw, oplane = s.oh * s.ow;
            sttest::Flush<float> xp(plane), wp(s.kh * s.kw), yp(oplane), ypr(oplane);
            for (size_t i = 0; i < plane; i++) xp[i] = x[i * c];
            for (size_t i = 0; i < s.kh * s.kw; i++) wp[i] = w[i * c];
            DwconvShape s1 = s;
            s1.c = 1;
            std::vector<float> scratch(f32_dwconv_nchw_scratch(s1, s.oh) + 1);
            v.nchw(s1, xp.data(), wp.data(), with_bias ? b[0] : 0.0f, act, yp.data(), 0, mid, scratch.data());
            v.nchw(s1, xp.data(), wp.data(), with_bias ? b[0] : 0.0f, act, yp.data(), mid, s.oh, scratch.data());
            R.nchw(s1, xp.data(), wp.data(), with_bias ? b[0] : 0.0f, act, ypr.data(), 0, s.oh, nullptr);
            for (size_t i = 0; i < oplane; i++)
              CHECK(close(yp[i], ypr[i]), "%s nchw %zux%zu k%zux%zu s%zu,%zu d%zu,%zu p%zu,%zu act=%d i=%zu got %g want %g",
                    v.name, s.ih, s.iw, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, act.code, i, yp[i], ypr[i]);
          }
          cases++;
        }
  });
  CHECK(cases > 100, "only %zu cases ran", cases);
}

// 3×3 stride-(1,2) rows too wide for L1 run in column strips (dwconv.h strip_columns): strip edges inside the
// interior, partial channel vectors, pads on either side only, row bands, against the reference.
TEST(f32_dwconv_nhwc_column_strips) {
  const F32DwconvVariant& R = f32_dwconv_reference;
  const Geo geos[] = {{3, 3, 1, 2, 1, 1, 1, 1, 1, 1}, {3, 3, 1, 2, 1, 1, 0, 0, 0, 0}, {3, 3, 1, 2, 1, 1, 1, 0, 1, 1},
                      {3, 3, 1, 2, 1, 1, 0, 1, 0, 0}};
  const size_t shapes[][3] = {{37, 5, 97}, {65, 4, 160}, {128, 3, 161}, {48, 6, 171}};  // c, ih, iw
  size_t cases = 0;
  sttest::for_each_runnable(f32_dwconv_table, 11, [&](const F32DwconvVariant& v, sttest::Rng& rng) {
    size_t k = 0;
    for (const auto& sh : shapes)
      for (const Geo& g : geos) {
        DwconvShape s;
        if (!geometry(g, sh[1], sh[2], &s, sh[0])) continue;
        const ConvAct act = kActs[k++ % (sizeof(kActs) / sizeof(kActs[0]))];
        const size_t c = s.c, nx = s.ih * s.iw * c, ny = s.oh * s.ow * c, nw = 9 * c;
        sttest::Flush<float> x(nx), w(nw), b(c), y(ny), yr(ny);
        for (size_t i = 0; i < nx; i++) x[i] = rng.uniform();
        for (size_t i = 0; i < nw; i++) w[i] = rng.uniform();
        for (size_t i = 0; i < c; i++) b[i] = rng.uniform();
        const size_t mid = s.oh / 2;
        v.nhwc(s, x.data(), w.data(), b.data(), act, y.data(), 0, mid);
        v.nhwc(s, x.data(), w.data(), b.data(), act, y.data(), mid, s.oh);
        R.nhwc(s, x.data(), w.data(), b.data(), act, yr.data(), 0, s.oh);
        for (size_t i = 0; i < ny; i++)
          CHECK(close(y[i], yr[i]), "%s strips c=%zu %zux%zu p%zu,%zu act=%d i=%zu got %g want %g", v.name, c, s.ih,
                s.iw, s.pt, s.pl, act.code, i, y[i], yr[i]);
        cases++;
      }
  });
  CHECK(cases >= 16, "only %zu cases ran", cases);
}

// The driver against the op's definition written out here (ONNX group conv, group = input channel): channel
// multiplier, both weight layouts, both data layouts, a batch, one and several threads.
TEST(f32_dwconv_driver_layouts_multiplier_threads) {
  const F32DwconvVariant& v = f32_dwconv_table.select();
  sttest::Rng rng(99);
  const int threads_before = num_threads();
  for (size_t mult : {1, 2, 3})
    for (int layout = 0; layout < 4; layout++)
      for (int threads : {1, 3}) {
        set_num_threads(threads);
        const bool nhwc = layout & 1, w_hwc = layout & 2;
        const size_t n = 2, c = 5, ih = 9, iw = 11, kh = 3, kw = 3, sh = 2, sw = 1, pt = 1, pl = 0;
        const size_t oh = (ih + 2 - kh) / sh + 1, ow = (iw + 1 - kw) / sw + 1, oc = c * mult;
        std::vector<float> x(n * c * ih * iw), w(oc * kh * kw), b(oc), y(n * oc * oh * ow), want(y.size());
        for (auto& e : x) e = rng.uniform();
        for (auto& e : w) e = rng.uniform();
        for (auto& e : b) e = rng.uniform();
        auto X = [&](size_t img, size_t ch, size_t yy, size_t xx) {
          return nhwc ? x[((img * ih + yy) * iw + xx) * c + ch] : x[((img * c + ch) * ih + yy) * iw + xx];
        };
        auto Wt = [&](size_t o, size_t ky, size_t kx) { return w_hwc ? w[(ky * kw + kx) * oc + o] : w[(o * kh + ky) * kw + kx]; };
        for (size_t img = 0; img < n; img++)
          for (size_t o = 0; o < oc; o++)
            for (size_t oy = 0; oy < oh; oy++)
              for (size_t ox = 0; ox < ow; ox++) {
                double s = b[o];
                for (size_t ky = 0; ky < kh; ky++)
                  for (size_t kx = 0; kx < kw; kx++) {
                    const ptrdiff_t iy = ptrdiff_t(oy * sh + ky) - ptrdiff_t(pt), ix = ptrdiff_t(ox * sw + kx) - ptrdiff_t(pl);
                    if (iy < 0 || ix < 0 || iy >= ptrdiff_t(ih) || ix >= ptrdiff_t(iw)) continue;
                    s += double(X(img, o / mult, size_t(iy), size_t(ix))) * Wt(o, ky, kx);
                  }
                const size_t at = nhwc ? ((img * oh + oy) * ow + ox) * oc + o : ((img * oc + o) * oh + oy) * ow + ox;
                want[at] = float(s > 0 ? s : 0);
              }
        DwconvArgs a{nhwc, w_hwc, n, c, mult, ih, iw, oh, ow, kh, kw, sh, sw, 1, 1, pt, pl,
                     x.data(), w.data(), b.data(), ConvAct{kConvActRelu, 0, 0}, y.data()};
        f32_dwconv_run(v, a);
        for (size_t i = 0; i < y.size(); i++)
          CHECK(close(y[i], want[i]), "driver mult=%zu nhwc=%d wHwc=%d threads=%d i=%zu got %g want %g", mult, nhwc,
                w_hwc, threads, i, y[i], want[i]);
      }
  set_num_threads(threads_before);
}
