// Prepacked int8 weights: panels per (NR, K padding, k-group), the column sums / zero-point correction and the
// per-column scales, made once per weight and reused across calls.
#pragma once
#include <cstddef>
#include <cstdint>

#include "runtime/core/aligned.h"
#include "runtime/core/panels_by_layout.h"
#include "runtime/int8/pack.h"

namespace simdtensor {

class PackedS8Weights {
 public:
  // b: K×N (or N×K when trans_b; a Linear weight [out, in] is trans_b with N = out), s8 or u8 bytes.
  // zero_points: 0 (none), 1 (per tensor) or n values in the weight's own domain; scales: 0, 1 or n values.
  // Packs first for (nr, kstep, kgroup) — a variant's fields.
  PackedS8Weights(const void* b, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n,
                  const int32_t* zero_points, size_t n_zero_points, const float* scales, size_t n_scales, size_t nr,
                  size_t kstep, size_t kgroup = 4);
  size_t k() const { return k_; }
  size_t n() const { return n_; }
  bool b_unsigned() const { return b_unsigned_; }
  // Panels for (nr, kstep, kgroup); made on first use by re-laying the first packing (e.g. after the ISA cap
  // changes).
  const int8_t* panels(size_t nr, size_t kstep, size_t kgroup = 4);
  const int32_t* colcorr() const { return colcorr_.get(); }
  // ZB' per column, or null when every one is zero (the common symmetric-s8 case skips that epilogue term).
  const int32_t* zb() const { return has_zb_ ? zb_.get() : nullptr; }
  const float* scales() const { return scales_.get(); }
  // The zero point / scale of column j as given (true domain).
  int32_t zero_point(size_t j) const { return zb_[j] - (b_unsigned_ ? -128 : 0); }
  size_t bytes() const;

 private:
  size_t k_, n_;
  bool b_unsigned_, has_zb_ = false;
  AlignedPtr<int32_t> colcorr_, zb_;
  AlignedPtr<float> scales_;
  PanelsByLayout<S8PanelLayout, int8_t> by_layout_;
};

}  // namespace simdtensor
