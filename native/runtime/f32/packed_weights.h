// Prepacked f32 weights: packed once per microkernel panel width (NR) and reused across calls.
#pragma once
#include <cstddef>
#include <memory>

#include "runtime/core/panels_by_layout.h"

namespace simdtensor {

class PackedF32Weights {
 public:
  // Packs B (K×N, or N×K when trans_b: a PyTorch Linear weight [out, in] is trans_b with N = out) for panel width nr.
  PackedF32Weights(const float* b, size_t ldb, bool trans_b, size_t k, size_t n, size_t nr);
  size_t k() const { return k_; }
  size_t n() const { return n_; }
  // Panels for width nr; made on first use by re-laying the first packing (e.g. after the ISA cap changes).
  const float* panels(size_t nr);
  size_t bytes() const;

 private:
  size_t k_, n_;
  PanelsByLayout<size_t, float> by_nr_;
};

}  // namespace simdtensor
