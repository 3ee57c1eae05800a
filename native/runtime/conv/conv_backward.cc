// Convolution gradient loops (see conv_backward.h). The inner loops run over contiguous channels, which the compiler
// vectorizes; the outer work is split over the thread pool so that no two tasks write the same output.
#include "runtime/conv/conv_backward.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/core/parallel.h"

namespace simdtensor {

namespace {
// Input coordinate of output coordinate o and tap k, or -1 when it falls in the padding.
inline long in_coord(size_t o, size_t k, size_t s, size_t d, size_t p, size_t extent) {
  const long v = long(o * s + k * d) - long(p);
  return v >= 0 && v < long(extent) ? v : -1;
}
}  // namespace

void f32_im2col_nhwc(const ConvBackGeom& g, const float* x, size_t row0, size_t rows, float* cols) {
  const size_t K = g.kh * g.kw * g.c;
  parallel_for_range(rows, 64, 1, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const size_t p = row0 + r;
      const size_t ox = p % g.ow, oy = (p / g.ow) % g.oh, b = p / (g.ow * g.oh);
      float* dst = cols + r * K;
      for (size_t ky = 0; ky < g.kh; ky++) {
        const long iy = in_coord(oy, ky, g.sh, g.dh, g.pt, g.ih);
        for (size_t kx = 0; kx < g.kw; kx++, dst += g.c) {
          const long ix = iy < 0 ? -1 : in_coord(ox, kx, g.sw, g.dw, g.pl, g.iw);
          if (ix < 0)
            std::memset(dst, 0, g.c * sizeof(float));
          else
            std::memcpy(dst, x + ((b * g.ih + size_t(iy)) * g.iw + size_t(ix)) * g.c, g.c * sizeof(float));
        }
      }
    }
  });
}

void f32_dwconv_backward_filter_nhwc(const ConvBackGeom& g, const float* x, const float* dy, float* dw) {
  const size_t cm = g.c * g.mult, taps = g.kh * g.kw;
  // Tasks own channel blocks (all taps of those channels), so their sums never meet.
  const size_t block = 64;
  const size_t blocks = (g.c + block - 1) / block;
  parallel_for(blocks, [&](size_t bi) {
    const size_t c0 = bi * block, c1 = std::min(g.c, c0 + block), nc = c1 - c0;
    std::vector<float> acc(taps * nc * g.mult, 0.0f);
    for (size_t b = 0; b < g.n; b++)
      for (size_t oy = 0; oy < g.oh; oy++)
        for (size_t ox = 0; ox < g.ow; ox++) {
          const float* dyp = dy + ((b * g.oh + oy) * g.ow + ox) * cm + c0 * g.mult;
          for (size_t ky = 0; ky < g.kh; ky++) {
            const long iy = in_coord(oy, ky, g.sh, g.dh, g.pt, g.ih);
            if (iy < 0) continue;
            for (size_t kx = 0; kx < g.kw; kx++) {
              const long ix = in_coord(ox, kx, g.sw, g.dw, g.pl, g.iw);
              if (ix < 0) continue;
              const float* xp = x + ((b * g.ih + size_t(iy)) * g.iw + size_t(ix)) * g.c + c0;
              float* ap = acc.data() + (ky * g.kw + kx) * nc * g.mult;
              if (g.mult == 1)
                for (size_t j = 0; j < nc; j++) ap[j] += xp[j] * dyp[j];
              else
                for (size_t j = 0; j < nc * g.mult; j++) ap[j] += xp[j / g.mult] * dyp[j];
            }
          }
        }
    for (size_t t = 0; t < taps; t++)
      std::memcpy(dw + t * cm + c0 * g.mult, acc.data() + t * nc * g.mult, nc * g.mult * sizeof(float));
  });
}

void f32_dwconv_backward_input_nhwc(const ConvBackGeom& g, const float* w, const float* dy, float* dx) {
  const size_t cm = g.c * g.mult;
  // Gather form: each input row (b, iy) sums the taps that read it, so tasks (rows) write disjoint outputs.
  parallel_for(g.n * g.ih, [&](size_t row) {
    const size_t b = row / g.ih, iy = row % g.ih;
    float* dxr = dx + row * g.iw * g.c;
    std::memset(dxr, 0, g.iw * g.c * sizeof(float));
    for (size_t ky = 0; ky < g.kh; ky++) {
      const long ty = long(iy + g.pt) - long(ky * g.dh);
      if (ty < 0 || ty % long(g.sh) != 0 || size_t(ty) / g.sh >= g.oh) continue;
      const size_t oy = size_t(ty) / g.sh;
      for (size_t ix = 0; ix < g.iw; ix++) {
        float* dxp = dxr + ix * g.c;
        for (size_t kx = 0; kx < g.kw; kx++) {
          const long tx = long(ix + g.pl) - long(kx * g.dw);
          if (tx < 0 || tx % long(g.sw) != 0 || size_t(tx) / g.sw >= g.ow) continue;
          const size_t ox = size_t(tx) / g.sw;
          const float* dyp = dy + ((b * g.oh + oy) * g.ow + ox) * cm;
          const float* wp = w + (ky * g.kw + kx) * cm;
          if (g.mult == 1)
            for (size_t j = 0; j < g.c; j++) dxp[j] += wp[j] * dyp[j];
          else
            for (size_t j = 0; j < g.c; j++) {
              float s = 0;
              for (size_t m = 0; m < g.mult; m++) s += wp[j * g.mult + m] * dyp[j * g.mult + m];
              dxp[j] += s;
            }
        }
      }
    }
  });
}

}  // namespace simdtensor
