// The layer-norm row statistics of the plain references (f32-eltwise and f32-train), in double: one definition so
// forward and backward references normalise the same way.
#pragma once
#include <cmath>
#include <cstddef>

namespace simdtensor {

// Mean of the row and 1/sqrt(population variance + eps).
inline void ref_row_moments(const float* xr, size_t cols, float eps, double* mean_out, double* rstd_out) {
  double mean = 0, var = 0;
  for (size_t c = 0; c < cols; c++) mean += xr[c];
  mean /= double(cols);
  for (size_t c = 0; c < cols; c++) var += (xr[c] - mean) * (xr[c] - mean);
  var /= double(cols);
  *mean_out = mean;
  *rstd_out = 1.0 / std::sqrt(var + eps);
}

}  // namespace simdtensor
