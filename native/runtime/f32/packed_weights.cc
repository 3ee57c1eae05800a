// Prepacked f32 weights.
#include "runtime/f32/packed_weights.h"

#include "runtime/f32/pack.h"

namespace simdtensor {

PackedF32Weights::PackedF32Weights(const float* b, size_t ldb, bool trans_b, size_t k, size_t n, size_t nr)
    : k_(k), n_(n) {
  auto p = aligned_alloc_array<float>(packed_b_f32_floats(k, n, nr));
  pack_b_f32(b, ldb, trans_b, k, n, nr, p.get());
  by_nr_.set_first(nr, std::move(p));
}

const float* PackedF32Weights::panels(size_t nr) {
  return by_nr_.get(nr, [&](size_t w) { return packed_b_f32_floats(k_, n_, w); },
                    [&](const float* src, size_t nr0, size_t w, float* out) { repack_b_f32(src, nr0, k_, n_, w, out); });
}

size_t PackedF32Weights::bytes() const {
  return by_nr_.bytes([&](size_t w) { return packed_b_f32_floats(k_, n_, w); });
}

}  // namespace simdtensor
