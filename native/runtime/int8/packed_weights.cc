// Prepacked int8 weights.
#include "runtime/int8/packed_weights.h"

#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/int8/pack.h"

namespace simdtensor {

PackedS8Weights::PackedS8Weights(const void* b, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n,
                                 const int32_t* zero_points, size_t n_zero_points, const float* scales,
                                 size_t n_scales, size_t nr, size_t kstep, size_t kgroup)
    : k_(k), n_(n), b_unsigned_(b_unsigned), first_{nr, s8_round_up(k, kstep), kgroup} {
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
  auto p = aligned_alloc_array<int8_t>(packed_b_s8_bytes(n, nr, first_.kpad));
  pack_b_s8(b, b_unsigned, ldb, trans_b, k, n, first_, p.get());
  by_layout_.emplace(first_, std::move(p));
}

const int8_t* PackedS8Weights::panels(size_t nr, size_t kstep, size_t kgroup) {
  const S8PanelLayout key{nr, s8_round_up(k_, kstep), kgroup};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_layout_.find(key);
  if (it != by_layout_.end()) return it->second.get();
  auto p = aligned_alloc_array<int8_t>(packed_b_s8_bytes(n_, key.nr, key.kpad));
  repack_b_s8(by_layout_.at(first_).get(), first_, k_, n_, key, p.get());
  const int8_t* out = p.get();
  by_layout_.emplace(key, std::move(p));
  return out;
}

size_t PackedS8Weights::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t b = n_ * (2 * sizeof(int32_t) + sizeof(float));
  for (const auto& kv : by_layout_) b += packed_b_s8_bytes(n_, kv.first.nr, kv.first.kpad);
  return b;
}

}  // namespace simdtensor
