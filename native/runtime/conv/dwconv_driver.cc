// Depthwise conv driver: repacks the (tiny) weights into the layout the kernel wants, expands a channel multiplier
// in NHWC, and runs bands of output rows of every image (NHWC) or plane (NCHW) as pool tasks.
#include "runtime/conv/dwconv_driver.h"

#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"
#include "runtime/f32/transpose_driver.h"
#include "runtime/core/window_tasks.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<float> t_scratch;
// The NHWC copies of one image for NCHW-through-NHWC: kept and reused (a fresh multi-MiB mapping costs milliseconds of
// page faults on some VMs, more than the op).
thread_local ScratchBuffer<float> t_xs, t_ys;
}  // namespace

void f32_dwconv_run(const F32DwconvVariant& v, const DwconvArgs& a) {
  const size_t oc = a.c * a.mult, taps = a.kh * a.kw;
  if (a.n == 0 || oc == 0 || a.oh == 0 || a.ow == 0) return;
  const DwconvShape s{oc, a.ih, a.iw, a.oh, a.ow, a.kh, a.kw, a.sh, a.sw, a.dh, a.dw, a.pt, a.pl};
  AlignedPtr<float> wbuf;
  const float* w = a.w;
  if (a.w_hwc != a.nhwc) {  // NHWC kernels read [tap][oc], NCHW kernels [oc][tap]
    wbuf = aligned_alloc_array<float>(taps * oc);
    for (size_t o = 0; o < oc; o++)
      for (size_t t = 0; t < taps; t++) {
        if (a.nhwc) wbuf[t * oc + o] = a.w[o * taps + t];
        else wbuf[o * taps + t] = a.w[t * oc + o];
      }
    w = wbuf.get();
  }
  const size_t in_img = a.ih * a.iw * a.c, out_img = a.oh * a.ow * oc;
  if (a.nhwc) {
    const double row_cost = double(a.ow * oc * taps);
    if (a.mult == 1) {
      parallel_window_rows(a.oh, a.n, row_cost, [&](size_t img, size_t r0, size_t r1) {
        v.nhwc(s, a.x + img * in_img, w, a.bias, a.act, a.y + img * out_img, r0, r1);
      });
      return;
    }
    // Channel multiplier: each input channel repeated mult times, so output channel oc reads expanded channel oc.
    AlignedPtr<float> xe = aligned_alloc_array<float>(a.ih * a.iw * oc);
    for (size_t img = 0; img < a.n; img++) {
      const float* x = a.x + img * in_img;
      parallel_for_range(a.ih * a.iw, 4096, 1, [&](size_t p0, size_t p1) {
        for (size_t p = p0; p < p1; p++)
          for (size_t c = 0; c < a.c; c++)
            for (size_t m = 0; m < a.mult; m++) xe[p * oc + c * a.mult + m] = x[p * a.c + c];
      });
      float* y = a.y + img * out_img;
      parallel_window_rows(a.oh, 1, row_cost, [&](size_t, size_t r0, size_t r1) {
        v.nhwc(s, xe.get(), w, a.bias, a.act, y, r0, r1);
      });
    }
    return;
  }
  if (dwconv_nchw_via_nhwc(a)) {
    // Small planes or a stride: transpose each image to NHWC, run the NHWC kernels, transpose back (docs/conv.md has
    // the measurements behind the rule). The transposes are the in-register ones, on the pool.
    float* xs = t_xs.get(in_img);
    float* ys = t_ys.get(out_img);
    DwconvArgs b = a;
    b.nhwc = true, b.n = 1, b.x = xs, b.y = ys;
    f32_nchw_through_nhwc(a.n, a.c, a.ih * a.iw, oc, a.oh * a.ow, a.x, a.y, xs, ys, [&] { f32_dwconv_run(v, b); });
    return;
  }
  const size_t plane_in = a.ih * a.iw, plane_out = a.oh * a.ow;
  parallel_window_rows(a.oh, a.n * oc, double(a.ow * taps), [&](size_t p, size_t r0, size_t r1) {
    const size_t img = p / oc, o = p % oc;
    float* sc = t_scratch.get(f32_dwconv_nchw_scratch(s, r1 - r0));
    v.nchw(s, a.x + (img * a.c + o / a.mult) * plane_in, w + o * taps, a.bias ? a.bias[o] : 0.0f, a.act,
           a.y + p * plane_out, r0, r1, sc);
  });
}

}  // namespace simdtensor
