// Resize driver: the per-axis index/weight tables (O(oh + ow)), then bands of output rows as pool tasks.
#include "runtime/conv/resize_driver.h"

#include <vector>

#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"
#include "runtime/core/window_tasks.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<float> t_scratch;
}  // namespace

void f32_resize_run(const F32ResizeVariant& v, const ResizeArgs& a) {
  if (a.n == 0 || a.c == 0 || a.oh == 0 || a.ow == 0) return;
  std::vector<int32_t> y0(a.oh), y1(a.oh), x0(a.ow), x1(a.ow);
  std::vector<float> fy(a.oh), fx(a.ow);
  resize_axis(a.mode, a.coord, a.nearest, a.ih, a.oh, a.scale_h, a.from_sizes, y0.data(), y1.data(), fy.data());
  resize_axis(a.mode, a.coord, a.nearest, a.iw, a.ow, a.scale_w, a.from_sizes, x0.data(), x1.data(), fx.data());
  const ResizeAxes t{y0.data(), y1.data(), fy.data(), x0.data(), x1.data(), fx.data()};
  const ResizeShape s{a.c, a.ih, a.iw, a.oh, a.ow};
  const double px_cost = a.mode == kResizeLinear ? 4.0 : 1.0;
  if (a.nhwc) {
    const size_t in_img = a.ih * a.iw * a.c, out_img = a.oh * a.ow * a.c;
    parallel_window_rows(a.oh, a.n, double(a.ow * a.c) * px_cost, [&](size_t img, size_t r0, size_t r1) {
      v.nhwc(a.mode, s, t, a.x + img * in_img, a.y + img * out_img, r0, r1);
    });
    return;
  }
  const size_t plane_in = a.ih * a.iw, plane_out = a.oh * a.ow;
  parallel_window_rows(a.oh, a.n * a.c, double(a.ow) * px_cost, [&](size_t p, size_t r0, size_t r1) {
    v.nchw(a.mode, s, t, a.x + p * plane_in, a.y + p * plane_out, r0, r1, t_scratch.get(2 * a.ow));
  });
}

}  // namespace simdtensor
