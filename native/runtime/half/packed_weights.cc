// Prepacked half weights.
#include "runtime/half/packed_weights.h"

#include "runtime/half/pack.h"

namespace simdtensor {

PackedHalfWeights::PackedHalfWeights(ElemType type, const uint16_t* b, size_t ldb, bool trans_b, size_t k, size_t n,
                                     const HalfBLayout& first)
    : type_(type), k_(k), n_(n), first_(first) {
  bmax_ = trans_b ? simdtensor::max_abs(b, type, n, k, ldb) : simdtensor::max_abs(b, type, k, n, ldb);
  auto p = aligned_alloc_array<uint16_t>(packed_b_half_count(k, n, first));
  pack_b_half(b, ldb, trans_b, k, n, first, p.get());
  by_layout_.emplace(first, std::move(p));
}

const uint16_t* PackedHalfWeights::panels(const HalfBLayout& L) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_layout_.find(L);
  if (it != by_layout_.end()) return it->second.get();
  auto p = aligned_alloc_array<uint16_t>(packed_b_half_count(k_, n_, L));
  repack_b_half(by_layout_.at(first_).get(), first_, k_, n_, L, p.get());
  const uint16_t* out = p.get();
  by_layout_.emplace(L, std::move(p));
  return out;
}

size_t PackedHalfWeights::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t b = 0;
  for (const auto& kv : by_layout_) b += packed_b_half_count(k_, n_, kv.first) * sizeof(uint16_t);
  return b;
}

}  // namespace simdtensor
