// Pooling driver: bands of output rows of every image (NHWC) or plane (NCHW) as pool tasks; global pooling split by
// channel blocks (NHWC) or planes (NCHW).
#include "runtime/conv/pool_driver.h"

#include <stdexcept>

#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"
#include "runtime/f32/transpose_driver.h"
#include "runtime/core/window_tasks.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<float> t_scratch;
thread_local ScratchBuffer<float> t_xs, t_ys;  // NHWC copies of one image (NCHW through NHWC), reused per thread
}  // namespace

void f32_pool_run(const F32PoolVariant& v, const PoolArgs& a) {
  if (a.n == 0 || a.c == 0 || a.oh == 0 || a.ow == 0) return;
  const PoolShape s{a.c, a.ih, a.iw, a.oh, a.ow, a.kh, a.kw, a.sh, a.sw, a.dh, a.dw, a.pt, a.pl, a.pb, a.pr,
                    a.count_include_pad};
  const size_t taps = a.kh * a.kw;
  if (a.nhwc) {
    const size_t in_img = a.ih * a.iw * a.c, out_img = a.oh * a.ow * a.c;
    parallel_window_rows(a.oh, a.n, double(a.ow * a.c * taps), [&](size_t img, size_t r0, size_t r1) {
      v.nhwc(a.kind, s, a.x + img * in_img, a.y + img * out_img, r0, r1);
    });
    return;
  }
  const size_t plane_in = a.ih * a.iw, plane_out = a.oh * a.ow;
  if (pool_nchw_via_nhwc(a)) {
    float* xs = t_xs.get(plane_in * a.c);
    float* ys = t_ys.get(plane_out * a.c);
    PoolArgs b = a;
    b.nhwc = true, b.n = 1, b.x = xs, b.y = ys;
    f32_nchw_through_nhwc(a.n, a.c, plane_in, a.c, plane_out, a.x, a.y, xs, ys, [&] { f32_pool_run(v, b); });
    return;
  }
  parallel_window_rows(a.oh, a.n * a.c, double(a.ow * taps), [&](size_t p, size_t r0, size_t r1) {
    float* sc = t_scratch.get(f32_pool_nchw_scratch(s, r1 - r0));
    v.nchw(a.kind, s, a.x + p * plane_in, a.y + p * plane_out, r0, r1, sc);
  });
}

void f32_global_pool_run(const F32PoolVariant& v, int kind, bool nhwc, size_t n, size_t c, size_t hw, const float* x,
                         float* y) {
  if (n == 0 || c == 0) return;
  if (hw == 0) throw std::invalid_argument("global pooling over an empty image");
  if (nhwc) {
    // Channel blocks of 64 (whole cache lines per pixel row), about four per thread or one per 128 Ki loads.
    parallel_window_rows((c + 63) / 64, n, double(hw * 64), [&](size_t img, size_t q0, size_t q1) {
      const size_t b0 = q0 * 64, b1 = q1 * 64 < c ? q1 * 64 : c;
      v.global_nhwc(kind, hw, b1 - b0, c, x + img * hw * c + b0, y + img * c + b0);
    });
    return;
  }
  const size_t planes = n * c;
  const size_t min_planes = size_t(kWindowTaskMinCost / double(hw)) + 1;
  parallel_for_range(planes, min_planes, 1, [&](size_t p0, size_t p1) {
    v.global_nchw(kind, hw, p1 - p0, x + p0 * hw, y + p0);
  });
}

}  // namespace simdtensor
