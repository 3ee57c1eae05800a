// Prepacked f32 weights.
#include "runtime/f32/packed_weights.h"

#include "runtime/f32/pack.h"

namespace simdtensor {

PackedF32Weights::PackedF32Weights(const float* b, size_t ldb, bool trans_b, size_t k, size_t n, size_t nr)
    : k_(k), n_(n), first_nr_(nr) {
  auto p = aligned_alloc_array<float>(packed_b_f32_floats(k, n, nr));
  pack_b_f32(b, ldb, trans_b, k, n, nr, p.get());
  by_nr_.emplace(nr, std::move(p));
}

const float* PackedF32Weights::panels(size_t nr) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_nr_.find(nr);
  if (it != by_nr_.end()) return it->second.get();
  const float* src = by_nr_.at(first_nr_).get();
  const size_t nr0 = first_nr_;
  auto p = aligned_alloc_array<float>(packed_b_f32_floats(k_, n_, nr));
  float* dst = p.get();
  const size_t panels = (n_ + nr - 1) / nr;
  for (size_t jp = 0; jp < panels; jp++)
    for (size_t kk = 0; kk < k_; kk++)
      for (size_t j = 0; j < nr; j++) {
        const size_t col = jp * nr + j;
        dst[(jp * k_ + kk) * nr + j] = col < n_ ? src[((col / nr0) * k_ + kk) * nr0 + col % nr0] : 0.0f;
      }
  const float* out = p.get();
  by_nr_.emplace(nr, std::move(p));
  return out;
}

size_t PackedF32Weights::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t b = 0;
  for (const auto& kv : by_nr_) b += packed_b_f32_floats(k_, n_, kv.first) * sizeof(float);
  return b;
}

}  // namespace simdtensor
