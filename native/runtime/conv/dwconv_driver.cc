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
    const size_t per = window_rows_per_task(a.oh, a.mult == 1 ? a.n : 1, double(a.ow * oc * taps));
    const size_t bands = (a.oh + per - 1) / per;
    auto band = [&](const float* x, float* y, size_t b) {
      const size_t r0 = b * per, r1 = r0 + per < a.oh ? r0 + per : a.oh;
      v.nhwc(s, x, w, a.bias, a.act, y, r0, r1);
    };
    if (a.mult == 1) {
      parallel_for(a.n * bands, [&](size_t i) { band(a.x + (i / bands) * in_img, a.y + (i / bands) * out_img, i % bands); });
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
      parallel_for(bands, [&](size_t b) { band(xe.get(), a.y + img * out_img, b); });
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
    for (size_t img = 0; img < a.n; img++) {
      f32_transpose_batched(1, a.c, a.ih * a.iw, a.x + img * in_img, xs);
      f32_dwconv_run(v, b);
      f32_transpose_batched(1, a.oh * a.ow, oc, ys, a.y + img * out_img);
    }
    return;
  }
  const size_t planes = a.n * oc, plane_in = a.ih * a.iw, plane_out = a.oh * a.ow;
  const size_t per = window_rows_per_task(a.oh, planes, double(a.ow * taps));
  const size_t bands = (a.oh + per - 1) / per;
  parallel_for(planes * bands, [&](size_t i) {
    const size_t p = i / bands, b = i % bands, img = p / oc, o = p % oc;
    const size_t r0 = b * per, r1 = r0 + per < a.oh ? r0 + per : a.oh;
    float* sc = t_scratch.get(f32_dwconv_nchw_scratch(s, r1 - r0));
    v.nchw(s, a.x + (img * a.c + o / a.mult) * plane_in, w + o * taps, a.bias ? a.bias[o] : 0.0f, a.act,
           a.y + p * plane_out, r0, r1, sc);
  });
}

}  // namespace simdtensor
