// Magnitude pruning of f32 weights [n×k] (offline, portable C++): unstructured (global or per row), n:m along k,
// and bh×bw blocks (global or per block row). Exact counts, deterministic tie-breaking (lower index pruned first).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace simdtensor {

enum class PrunePattern : int { kUnstructured = 0, kNm = 1, kBlock = 2 };

struct F32PruneArgs {
  const float* w = nullptr;
  size_t n = 0, k = 0;
  PrunePattern pattern = PrunePattern::kUnstructured;
  double sparsity = 0;   // fraction of entries (unstructured) or blocks (block) to prune; ignored for n:m
  bool per_row = false;  // rank within each row (block row) instead of over the whole matrix
  size_t nm_n = 0, nm_m = 0;
  size_t bh = 1, bw = 1;
  float* out = nullptr;     // pruned weights (may equal w)
  uint8_t* mask = nullptr;  // 1 = kept, 0 = pruned (may be null)
};

// Checks the arguments (shape vs pattern, ranges); "" when valid.
std::string f32_prune_check(const F32PruneArgs& a);
// Prunes; returns the number of zero entries in `out` (pruned entries plus kept entries that were already 0).
size_t f32_prune(const F32PruneArgs& a);

}  // namespace simdtensor
