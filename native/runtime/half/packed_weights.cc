// Prepacked half weights.
#include "runtime/half/packed_weights.h"

#include "runtime/half/pack.h"

namespace simdtensor {

PackedHalfWeights::PackedHalfWeights(ElemType type, const uint16_t* b, size_t ldb, bool trans_b, size_t k, size_t n,
                                     const HalfBLayout& first)
    : type_(type), k_(k), n_(n) {
  bmax_ = trans_b ? simdtensor::max_abs(b, type, n, k, ldb) : simdtensor::max_abs(b, type, k, n, ldb);
  auto p = aligned_alloc_array<uint16_t>(packed_b_half_count(k, n, first));
  pack_b_half(b, ldb, trans_b, k, n, first, p.get());
  by_layout_.set_first(first, std::move(p));
}

const uint16_t* PackedHalfWeights::panels(const HalfBLayout& L) {
  return by_layout_.get(
      L, [&](const HalfBLayout& l) { return packed_b_half_count(k_, n_, l); },
      [&](const uint16_t* src, const HalfBLayout& from, const HalfBLayout& to, uint16_t* out) {
        repack_b_half(src, from, k_, n_, to, out);
      });
}

size_t PackedHalfWeights::bytes() const {
  return by_layout_.bytes([&](const HalfBLayout& l) { return packed_b_half_count(k_, n_, l); });
}

}  // namespace simdtensor
