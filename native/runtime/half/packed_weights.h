// Prepacked f16/bf16 weights: packed once per panel layout and reused across calls (half the bytes of f32).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/half-gemm/half-gemm.h"
#include "runtime/core/panels_by_layout.h"

namespace simdtensor {

class PackedHalfWeights {
 public:
  // Packs B (K×N, or N×K when trans_b: a PyTorch Linear weight [out, in] is trans_b with N = out), raw bits of
  // `type` (kF16 or kBf16), for layout `first`.
  PackedHalfWeights(ElemType type, const uint16_t* b, size_t ldb, bool trans_b, size_t k, size_t n,
                    const HalfBLayout& first);
  ElemType type() const { return type_; }
  size_t k() const { return k_; }
  size_t n() const { return n_; }
  // max |B| (Inf if B holds Inf or NaN): the fp16 range guard's input.
  float max_abs() const { return bmax_; }
  // Panels in layout L; made on first use by re-laying the first packing (e.g. after the ISA cap changes).
  const uint16_t* panels(const HalfBLayout& L);
  size_t bytes() const;

 private:
  ElemType type_;
  size_t k_, n_;
  float bmax_;
  PanelsByLayout<HalfBLayout, uint16_t> by_layout_;
};

}  // namespace simdtensor
