// Scalar references for the f32 conv family: plain loops, double accumulation, libm transcendentals.
#include <cmath>
#include "kernels/f32-conv/f32-conv.h"

namespace simdtensor {

float f32_conv_activation_reference(float x, const F32ConvEpilogue& ep) {
  if (std::isnan(x)) return x;
  switch (ep.act) {
    case kConvActRelu: return x > 0.0f ? x : 0.0f;
    case kConvActGelu: return f32_activation_reference(x, kActGelu);
    case kConvActClip: return x < ep.p0 ? ep.p0 : (x > ep.p1 ? ep.p1 : x);
    case kConvActLeakyRelu: return x < 0.0f ? ep.p0 * x : x;
    case kConvActSigmoid: return float(1.0 / (1.0 + std::exp(-double(x))));
    case kConvActHardSigmoid: {
      const double v = double(ep.p0) * x + ep.p1;
      return float(v < 0 ? 0 : v > 1 ? 1 : v);
    }
    case kConvActHardSwish:
    case kConvActHardSwishAffine: {
      const double v = double(x) / 6.0 + 0.5;
      const double h = double(x) * (v < 0 ? 0 : v > 1 ? 1 : v);
      return float(ep.act == kConvActHardSwish ? h : double(ep.p0) * h + double(ep.p1));
    }
    default: return x;
  }
}

namespace {
void ref_epilogue(size_t m, size_t n, float* c, size_t ldc, const float* r, size_t ldr, const F32ConvEpilogue& ep) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      float v = c[i * ldc + j];
      if (r) v += r[i * ldr + j];
      c[i * ldc + j] = f32_conv_activation_reference(v, ep);
    }
}
// Plain loops, double accumulation; nr = 8 panels, mr = 4 pointers per tap.
void ref_igemm(size_t m, size_t n, size_t taps, size_t cg, const float* const* a, const float* b, float* c, size_t ldc,
               unsigned flags, const float* bias, int act) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0.0;
      for (size_t t = 0; t < taps; t++)
        for (size_t p = 0; p < cg; p++) s += double(a[t * 4 + i][p]) * double(b[(t * cg + p) * 8 + j]);
      float v = float(s);
      if (flags & kGemmAccumulate) v += c[i * ldc + j];
      if (flags & kGemmEpilogue) {
        if (bias) v += bias[j];
        v = f32_activation_reference(v, act);
      }
      c[i * ldc + j] = v;
    }
}
}  // namespace

const F32ConvVariant f32_conv_reference = {"f32_conv_reference", Isa::kScalar, 4, 8, &ref_igemm, &ref_epilogue};

void f32_conv2d_reference(const ConvShape& s, const float* x, const float* w, const float* bias, const float* residual,
                          const F32ConvEpilogue& ep, float* y) {
  const size_t cg = s.cg(), mg = s.mg(), kd = s.kdim();
  for (size_t b = 0; b < s.n; b++)
    for (size_t oy = 0; oy < s.oh; oy++)
      for (size_t ox = 0; ox < s.ow; ox++) {
        const size_t pix = (b * s.oh + oy) * s.ow + ox;
        for (size_t g = 0; g < s.groups; g++)
          for (size_t mo = 0; mo < mg; mo++) {
            double acc = 0.0;
            for (size_t ky = 0; ky < s.kh; ky++)
              for (size_t kx = 0; kx < s.kw; kx++) {
                long iy, ix;
                if (!s.transposed) {
                  iy = long(oy * s.sh + ky * s.dh) - long(s.pad_t);
                  ix = long(ox * s.sw + kx * s.dw) - long(s.pad_l);
                } else {
                  const long ny = long(oy + s.pad_t) - long(ky * s.dh), nx = long(ox + s.pad_l) - long(kx * s.dw);
                  if (ny < 0 || nx < 0 || ny % long(s.sh) != 0 || nx % long(s.sw) != 0) continue;
                  iy = ny / long(s.sh);
                  ix = nx / long(s.sw);
                }
                if (iy < 0 || ix < 0 || iy >= long(s.h) || ix >= long(s.w)) continue;
                const float* xp = x + ((b * s.h + size_t(iy)) * s.w + size_t(ix)) * s.c + g * cg;
                const float* wp = w + g * kd * mg + ((ky * s.kw + kx) * cg) * mg + mo;
                for (size_t ci = 0; ci < cg; ci++) acc += double(xp[ci]) * double(wp[ci * mg]);
              }
            float v = float(acc);
            const size_t o = pix * s.m + g * mg + mo;
            if (bias) v += bias[g * mg + mo];
            if (residual) v += residual[o];
            y[o] = f32_conv_activation_reference(v, ep);
          }
      }
}

}  // namespace simdtensor
