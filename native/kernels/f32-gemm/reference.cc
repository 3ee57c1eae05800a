// Scalar reference for f32 GEMM: plain loops, double accumulation. Tests compare every variant with it.
#include <cmath>
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {

float f32_activation_reference(float x, int act) {
  if (act == kActRelu) return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f);
  if (act == kActGelu) return float(0.5 * double(x) * (1.0 + std::erf(double(x) * 0.70710678118654752440)));
  return x;
}

void f32_gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                        bool trans_b, float* c, size_t ldc, const float* bias, int act) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0.0;
      for (size_t p = 0; p < k; p++) s += double(a[i * lda + p]) * double(trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      float v = float(s);
      if (bias) v += bias[j];
      c[i * ldc + j] = f32_activation_reference(v, act);
    }
}

}  // namespace simdtensor
