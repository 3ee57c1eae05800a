// Conv weight packing: any accepted layout → per-group GEMM B panels (runtime/f32/pack.h layout).
#include "runtime/conv/conv_weights.h"

#include "runtime/f32/pack.h"

namespace simdtensor {

size_t conv_weight_index(int layout, size_t c, size_t m, size_t kh, size_t kw, size_t groups, size_t g, size_t ky,
                         size_t kx, size_t ci, size_t mo) {
  const size_t cg = c / groups, mg = m / groups;
  switch (layout) {
    case kConvHWIO: return ((ky * kw + kx) * cg + ci) * m + g * mg + mo;
    case kConvIOHW: return (((g * cg + ci) * mg + mo) * kh + ky) * kw + kx;
    case kConvHWOI: return ((ky * kw + kx) * mg + mo) * c + g * cg + ci;
    default: return (((g * mg + mo) * cg + ci) * kh + ky) * kw + kx;  // OIHW
  }
}

size_t conv_group_panel_floats(size_t kdim, size_t mg, size_t nr) { return packed_b_f32_floats(kdim, mg, nr); }

void pack_conv_weights_f32(const float* w, int layout, size_t c, size_t m, size_t kh, size_t kw, size_t groups,
                           const float* scale, size_t nr, float* out) {
  const size_t cg = c / groups, mg = m / groups, kd = kh * kw * cg;
  const size_t gstride = conv_group_panel_floats(kd, mg, nr);
  for (size_t g = 0; g < groups; g++) {
    float* gp = out + g * gstride;
    for (size_t j0 = 0; j0 < mg; j0 += nr) {
      float* dst = gp + (j0 / nr) * kd * nr;
      for (size_t ky = 0; ky < kh; ky++)
        for (size_t kx = 0; kx < kw; kx++)
          for (size_t ci = 0; ci < cg; ci++) {
            float* row = dst + ((ky * kw + kx) * cg + ci) * nr;
            for (size_t j = 0; j < nr; j++) {
              const size_t mo = j0 + j;
              row[j] = mo < mg ? w[conv_weight_index(layout, c, m, kh, kw, groups, g, ky, kx, ci, mo)] *
                                     (scale ? scale[g * mg + mo] : 1.0f)
                               : 0.0f;
            }
          }
    }
  }
}

PackedF32ConvWeights::PackedF32ConvWeights(const float* w, int layout, size_t c, size_t m, size_t kh, size_t kw,
                                           size_t groups, const float* scale, size_t nr)
    : c_(c), m_(m), kh_(kh), kw_(kw), groups_(groups) {
  auto p = aligned_alloc_array<float>(floats(nr));
  pack_conv_weights_f32(w, layout, c, m, kh, kw, groups, scale, nr, p.get());
  by_nr_.set_first(nr, std::move(p));
}

size_t PackedF32ConvWeights::floats(size_t nr) const {
  return groups_ * conv_group_panel_floats(kh_ * kw_ * (c_ / groups_), m_ / groups_, nr);
}

const float* PackedF32ConvWeights::panels(size_t nr) {
  const size_t kd = kh_ * kw_ * (c_ / groups_), mg = m_ / groups_;
  return by_nr_.get(nr, [&](size_t w) { return floats(w); }, [&](const float* src, size_t nr0, size_t w, float* out) {
    // Each group's [kd, mg] panels re-laid like a plain weight's.
    const size_t s0 = conv_group_panel_floats(kd, mg, nr0), s1 = conv_group_panel_floats(kd, mg, w);
    for (size_t g = 0; g < groups_; g++) repack_b_f32(src + g * s0, nr0, kd, mg, w, out + g * s1);
  });
}

size_t PackedF32ConvWeights::bytes() const {
  return by_nr_.bytes([&](size_t w) { return floats(w); });
}

}  // namespace simdtensor
