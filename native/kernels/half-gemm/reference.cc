// Scalar reference for the half GEMM family: operands widened exactly to f32, products summed in double.
#include "common/half.h"
#include "kernels/half-gemm/half-gemm.h"

namespace simdtensor {
namespace {
inline double elem(const void* p, ElemType t, size_t i) {
  switch (t) {
    case ElemType::kF32: return double(static_cast<const float*>(p)[i]);
    case ElemType::kF16: return double(f16_to_f32_scalar(static_cast<const uint16_t*>(p)[i]));
    case ElemType::kBf16: return double(bf16_to_f32_scalar(static_cast<const uint16_t*>(p)[i]));
  }
  return 0.0;
}
}  // namespace

void half_gemm_reference(size_t m, size_t n, size_t k, const void* a, ElemType a_type, size_t lda, const uint16_t* b,
                         ElemType b_type, size_t ldb, bool trans_b, float* c, size_t ldc, const float* bias, int act) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0.0;
      for (size_t p = 0; p < k; p++) s += elem(a, a_type, i * lda + p) * elem(b, b_type, trans_b ? j * ldb + p : p * ldb + j);
      float v = float(s);
      if (bias) v += bias[j];
      c[i * ldc + j] = f32_activation_reference(v, act);
    }
}

}  // namespace simdtensor
