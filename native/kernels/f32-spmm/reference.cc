// Scalar reference for the sparse-weight matmul: densify, then the dense f32 reference (double accumulation).
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-spmm/f32-spmm.h"
#include "runtime/sparse/weights.h"

namespace simdtensor {

void f32_spmm_reference(const F32SparseView& w, size_t m, const float* x, size_t ldx, float* out, size_t ldo,
                        const float* bias, int act) {
  std::vector<float> dense(w.n * w.k);
  f32_sparse_to_dense(w, dense.data());
  f32_gemm_reference(m, w.n, w.k, x, ldx, dense.data(), w.k, true, out, ldo, bias, act);
}

}  // namespace simdtensor
