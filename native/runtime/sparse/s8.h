// Pruned-and-quantized int8 weights owned by native code (groups-of-4 layout, see kernels/s8-spmm/s8-spmm.h), the
// int8 sparse linear driver (activations quantized per row to u8 like the dense int8 path), its crossover to the
// dense int8 GEMM, and the plain-C++ entry point `s8_sparse_linear` (no N-API; callable from any thread).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/s8-gemm/s8-gemm.h"
#include "kernels/s8-spmm/s8-spmm.h"
#include "runtime/int8/packed_weights.h"
#include "runtime/sparse/weights.h"
#include "runtime/sparse/spmm_driver.h"

namespace simdtensor {

class S8SparseWeights {
 public:
  // `in` holds the int8 values as floats (so the one validator serves both dtypes); scales: one per row, each
  // positive and finite. Values must be integers in [-128, 127]. Returns null and sets *err when invalid.
  static std::unique_ptr<S8SparseWeights> create(const SparseInput& in, const float* scales, size_t n_scales,
                                                 std::string* err);
  const S8SparseView& view() const { return view_; }
  // Nonzero int8 weights.
  size_t nonzeros() const { return nonzeros_; }
  // Density used by the crossover: stored groups × 4 / (n·k) (the kernels' work).
  double work_density() const;
  size_t bytes() const;
  bool has_dense() const;
  // Dense int8 weights packed for the dense int8 GEMM variant `gv`, made on first use (thread-safe).
  std::shared_ptr<PackedS8Weights> dense_packed(const S8GemmVariant& gv);
  // The dense int8 matrix [n×k].
  void to_dense(int8_t* out) const;

 private:
  S8SparseWeights() = default;
  S8SparseView view_;
  std::vector<uint32_t> ptr_;
  std::vector<uint16_t> gidx16_;
  std::vector<uint32_t> gidx32_;
  std::vector<int32_t> gval_, rowsum_;
  std::vector<float> scale_;
  size_t nonzeros_ = 0;
  mutable std::mutex mu_;
  std::shared_ptr<PackedS8Weights> dense_;
};

struct S8SpmmArgs {
  const S8SparseView* w;
  size_t m;
  const float* x;  // [m × K] f32, quantized per row inside
  size_t ldx;
  float* out;      // [m × N]
  size_t ldo;
  const float* bias;
  int act;
};

SpmmPath s8_spmm_auto_path(const S8SpmmVariant& v, size_t m);
const char* s8_spmm_run(const S8SpmmVariant& v, const S8SpmmArgs& a, SpmmPath path = SpmmPath::kAuto);
double s8_spmm_max_density(const S8SpmmVariant& v, size_t m);

struct S8SparseLinearArgs {
  S8SparseWeights* w;
  size_t m;
  const float* x;
  float* out;
  const float* bias;
  int act;
  SparseMode mode;
};
// Sparse int8 kernel, or the dense int8 GEMM (dynamic u8 activations) where the crossover says dense is faster.
const char* s8_sparse_linear(const S8SparseLinearArgs& a);
const char* s8_sparse_kernel_for(S8SparseWeights& w, size_t m, SparseMode mode);

}  // namespace simdtensor
