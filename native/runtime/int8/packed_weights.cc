// Prepacked int8 weights.
#include "runtime/int8/packed_weights.h"

#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/int8/pack.h"

namespace simdtensor {

PackedS8Weights::PackedS8Weights(const void* b, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n,
                                 const int32_t* zero_points, size_t n_zero_points, const float* scales,
                                 size_t n_scales, size_t nr, size_t kstep, size_t kgroup)
    : k_(k), n_(n), b_unsigned_(b_unsigned) {
  colcorr_ = aligned_alloc_array<int32_t>(n);
  zb_ = aligned_alloc_array<int32_t>(n);
  scales_ = aligned_alloc_array<float>(n);
  s8_b_column_sums(b, b_unsigned, ldb, trans_b, k, n, colcorr_.get());
  const int32_t ob = b_unsigned ? -128 : 0;
  for (size_t j = 0; j < n; j++) {
    const int32_t z = n_zero_points == 0 ? 0 : zero_points[n_zero_points == 1 ? 0 : j];
    zb_[j] = z + ob;
    if (zb_[j] != 0) has_zb_ = true;
    colcorr_[j] = int32_t(uint32_t(colcorr_[j]) - uint32_t(k) * uint32_t(zb_[j]));
    scales_[j] = n_scales == 0 ? 1.0f : scales[n_scales == 1 ? 0 : j];
  }
  const S8PanelLayout first{nr, s8_round_up(k, kstep), kgroup};
  auto p = aligned_alloc_array<int8_t>(packed_b_s8_bytes(n, nr, first.kpad));
  pack_b_s8(b, b_unsigned, ldb, trans_b, k, n, first, p.get());
  by_layout_.set_first(first, std::move(p));
}

const int8_t* PackedS8Weights::panels(size_t nr, size_t kstep, size_t kgroup) {
  return by_layout_.get(
      S8PanelLayout{nr, s8_round_up(k_, kstep), kgroup},
      [&](const S8PanelLayout& l) { return packed_b_s8_bytes(n_, l.nr, l.kpad); },
      [&](const int8_t* src, const S8PanelLayout& from, const S8PanelLayout& to, int8_t* out) {
        repack_b_s8(src, from, k_, n_, to, out);
      });
}

size_t PackedS8Weights::bytes() const {
  return n_ * (2 * sizeof(int32_t) + sizeof(float)) +
         by_layout_.bytes([&](const S8PanelLayout& l) { return packed_b_s8_bytes(n_, l.nr, l.kpad); });
}

}  // namespace simdtensor
