// Every compiled resize variant against the reference over the same coordinate tables (odd channel counts, up- and
// downscaling, every mode), plus the coordinate tables themselves against hand-worked values.
#include <cmath>
#include <vector>

#include "kernels/f32-resize/f32-resize.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Nearest copies exactly; bilinear blends two lerps in float (FMA) against a double reference.
constexpr float kResizeAbsTol = 1e-6f;
constexpr float kResizeRelTol = 1e-6f;
bool close(float got, float want) { return std::fabs(got - want) <= kResizeAbsTol + kResizeRelTol * std::fabs(want); }

const size_t kChannels[] = {1, 3, 7, 15, 17, 33, 63, 65};
const size_t kDims[][4] = {{1, 1, 3, 5}, {3, 5, 7, 9}, {7, 7, 3, 2}, {9, 13, 17, 5}, {4, 4, 4, 4}, {5, 3, 1, 1}};
}  // namespace

TEST(f32_resize_axis_tables) {
  int32_t i0[8], i1[8];
  float f[8];
  // half_pixel, 2 → 4, linear: x_orig = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
  resize_axis(kResizeLinear, kCoordHalfPixel, 0, 2, 4, 2.0f, false, i0, i1, f);
  const int32_t w0[] = {0, 0, 0, 1}, w1[] = {1, 1, 1, 1};
  const float wf[] = {0, 0.25f, 0.75f, 0};
  for (int i = 0; i < 4; i++) CHECK(i0[i] == w0[i] && i1[i] == w1[i] && f[i] == wf[i], "half_pixel linear o=%d: %d %d %g", i, i0[i], i1[i], f[i]);
  // align_corners, 3 → 5: x_orig = o·2/4 = 0, 0.5, 1, 1.5, 2.
  resize_axis(kResizeLinear, kCoordAlignCorners, 0, 3, 5, 5.0f / 3.0f, false, i0, i1, f);
  const int32_t a0[] = {0, 0, 1, 1, 2};
  const float af[] = {0, 0.5f, 0, 0.5f, 0};
  for (int i = 0; i < 5; i++) CHECK(i0[i] == a0[i] && f[i] == af[i], "align_corners o=%d: %d %g", i, i0[i], f[i]);
  // asymmetric nearest, 4 → 8 (scale 2): x_orig = o/2 = 0, .5, 1, 1.5, ...; round_prefer_floor: 0 0 1 1 2 2 3 3,
  // round_prefer_ceil: 0 1 1 2 2 3 3 3 (clamped), floor: as prefer_floor, ceil: 0 1 1 2 2 3 3 3.
  const int32_t pf[] = {0, 0, 1, 1, 2, 2, 3, 3}, pc[] = {0, 1, 1, 2, 2, 3, 3, 3};
  resize_axis(kResizeNearest, kCoordAsymmetric, kNearestRoundPreferFloor, 4, 8, 2.0f, false, i0, i1, f);
  for (int i = 0; i < 8; i++) CHECK(i0[i] == pf[i], "prefer_floor o=%d: %d", i, i0[i]);
  resize_axis(kResizeNearest, kCoordAsymmetric, kNearestRoundPreferCeil, 4, 8, 2.0f, false, i0, i1, f);
  for (int i = 0; i < 8; i++) CHECK(i0[i] == pc[i], "prefer_ceil o=%d: %d", i, i0[i]);
  resize_axis(kResizeNearest, kCoordAsymmetric, kNearestFloor, 4, 8, 2.0f, false, i0, i1, f);
  for (int i = 0; i < 8; i++) CHECK(i0[i] == pf[i], "floor o=%d: %d", i, i0[i]);
  resize_axis(kResizeNearest, kCoordAsymmetric, kNearestCeil, 4, 8, 2.0f, false, i0, i1, f);
  for (int i = 0; i < 8; i++) CHECK(i0[i] == pc[i], "ceil o=%d: %d", i, i0[i]);
  // tf_half_pixel_for_nn, 4 → 2 (scale 0.5): (o + 0.5)·2 = 1, 3 → prefer_floor 1, 3.
  resize_axis(kResizeNearest, kCoordTfHalfPixelForNn, kNearestRoundPreferFloor, 4, 2, 0.5f, false, i0, i1, f);
  CHECK(i0[0] == 1 && i0[1] == 3, "tf_half_pixel_for_nn: %d %d", i0[0], i0[1]);
  // Sizes 4 → 7, asymmetric: source 2·7/4 = 3.5 exactly (a float division by the float scale 4/7 gives 3.4999998),
  // so round_prefer_ceil picks 4; and half_pixel at the given scale 0.6 in float steps puts output 1 at source 2.
  resize_axis(kResizeNearest, kCoordAsymmetric, kNearestRoundPreferCeil, 7, 4, 0.0f, true, i0, i1, f);
  CHECK(i0[2] == 4, "sizes 7->4 asymmetric prefer_ceil: %d", i0[2]);
  resize_axis(kResizeNearest, kCoordHalfPixel, kNearestFloor, 7, 4, 0.6f, false, i0, i1, f);
  CHECK(i0[1] == 2, "scale 0.6 half_pixel floor: %d", i0[1]);
  // pytorch_half_pixel with one output: 0.
  resize_axis(kResizeLinear, kCoordPytorchHalfPixel, 0, 5, 1, 0.2f, false, i0, i1, f);
  CHECK(i0[0] == 0 && f[0] == 0, "pytorch_half_pixel out=1: %d %g", i0[0], f[0]);
}

TEST(f32_resize_variants_match_reference) {
  const F32ResizeVariant& R = f32_resize_reference;
  sttest::for_each_runnable(f32_resize_table, 11, [&](const F32ResizeVariant& v, sttest::Rng& rng) {
    int k = 0;
    for (size_t c : kChannels)
      for (const auto& d : kDims)
        for (int mode : {kResizeNearest, kResizeLinear})
          for (int coord = 0; coord < kCoordCount; coord++) {
            const int nearest = k++ % kNearestCount;
            const ResizeShape s{c, d[0], d[1], d[2], d[3]};
            std::vector<int32_t> y0(s.oh), y1(s.oh), x0(s.ow), x1(s.ow);
            std::vector<float> fy(s.oh), fx(s.ow);
            resize_axis(mode, coord, nearest, s.ih, s.oh, 0.0f, true, y0.data(), y1.data(), fy.data());
            resize_axis(mode, coord, nearest, s.iw, s.ow, float(s.ow) / float(s.iw), k % 2 == 0, x0.data(), x1.data(), fx.data());
            const ResizeAxes t{y0.data(), y1.data(), fy.data(), x0.data(), x1.data(), fx.data()};
            const size_t nx = s.ih * s.iw * c, ny = s.oh * s.ow * c;
            sttest::Flush<float> x(nx), y(ny), yr(ny);
            for (size_t i = 0; i < nx; i++) x[i] = rng.uniform() * 3;
            const size_t mid = s.oh / 2;
            v.nhwc(mode, s, t, x.data(), y.data(), 0, mid);
            v.nhwc(mode, s, t, x.data(), y.data(), mid, s.oh);
            R.nhwc(mode, s, t, x.data(), yr.data(), 0, s.oh);
            for (size_t i = 0; i < ny; i++)
              CHECK(close(y[i], yr[i]), "%s nhwc mode=%d coord=%d c=%zu %zux%zu->%zux%zu i=%zu got %g want %g", v.name, mode,
                    coord, c, s.ih, s.iw, s.oh, s.ow, i, y[i], yr[i]);
            // NCHW: c planes, each run in two bands.
            std::vector<float> scratch(2 * s.ow);
            for (size_t p = 0; p < c; p++) {
              v.nchw(mode, s, t, x.data() + p * s.ih * s.iw, y.data() + p * s.oh * s.ow, 0, mid, scratch.data());
              v.nchw(mode, s, t, x.data() + p * s.ih * s.iw, y.data() + p * s.oh * s.ow, mid, s.oh, scratch.data());
              R.nchw(mode, s, t, x.data() + p * s.ih * s.iw, yr.data() + p * s.oh * s.ow, 0, s.oh, nullptr);
            }
            for (size_t i = 0; i < ny; i++)
              CHECK(close(y[i], yr[i]), "%s nchw mode=%d coord=%d c=%zu %zux%zu->%zux%zu i=%zu got %g want %g", v.name, mode,
                    coord, c, s.ih, s.iw, s.oh, s.ow, i, y[i], yr[i]);
          }
  });
}
