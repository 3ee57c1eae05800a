// Scalar reference for the int8 sparse-weight linear: dense int8 rows rebuilt from the groups, int64 sums.
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/s8-spmm/s8-spmm.h"

namespace simdtensor {

void s8_spmm_reference(const S8SparseView& w, size_t m, const uint8_t* xq, size_t ldx, const float* sx,
                       const int32_t* zx, float* out, size_t ldo, const float* bias, int act) {
  std::vector<int8_t> row(w.groups * 4);
  for (size_t r = 0; r < w.n; r++) {
    std::fill(row.begin(), row.end(), int8_t(0));
    for (size_t j = w.ptr[r]; j < w.ptr[r + 1]; j++) {
      const size_t g = w.idx16 ? size_t(static_cast<const uint16_t*>(w.gidx)[j]) : size_t(static_cast<const uint32_t*>(w.gidx)[j]);
      for (size_t b = 0; b < 4; b++) row[4 * g + b] = int8_t(uint32_t(w.gval[j]) >> (8 * b));
    }
    int64_t rs = 0;
    for (size_t c = 0; c < w.k; c++) rs += row[c];
    for (size_t i = 0; i < m; i++) {
      int64_t s = 0;
      for (size_t c = 0; c < w.k; c++) s += int64_t(xq[i * ldx + c]) * row[c];
      const double v = double(w.scale[r]) * double(sx[i]) * (double(s) - double(zx[i]) * double(rs));
      out[i * ldo + r] = f32_activation_reference(float(v) + (bias ? bias[r] : 0.0f), act);
    }
  }
}

}  // namespace simdtensor
