// Row-wise dynamic quantization entry points that own their scratch (see dynamic_linear.h).
#include "runtime/int8/dynamic_linear.h"

#include <memory>

#include "runtime/core/aligned.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/packed_weights.h"

namespace simdtensor {

size_t quantize_rows_dynamic_count(const QuantizeVariant& qv, size_t m, size_t k, const float* x, bool is_unsigned,
                                   uint8_t* out, float* scales, int32_t* zeros) {
  std::unique_ptr<uint8_t[]> bad(new uint8_t[m ? m : 1]);
  quantize_rows_dynamic(qv, m, k, x, k, is_unsigned, out, k, scales, zeros, bad.get());
  size_t nbad = 0;
  for (size_t i = 0; i < m; i++) nbad += bad[i];
  return nbad;
}

bool s8_linear_dynamic_q_run(const S8GemmVariant& v, const QuantizeVariant& qv, const float* x, PackedS8Weights& w,
                             S8GemmArgs g) {
  const size_t mk = g.m * g.k;
  AlignedPtr<uint8_t> q = aligned_alloc_array<uint8_t>(mk ? mk : 1);
  float* scales = const_cast<float*>(g.a_scale);
  int32_t* zeros = const_cast<int32_t*>(g.a_zero);
  if (quantize_rows_dynamic_count(qv, g.m, g.k, x, g.a_unsigned, q.get(), scales, zeros) != 0) return false;
  g.a = q.get();
  g.lda = g.k;
  g.a_scale_stride = 1;
  g.a_zero_stride = 1;
  s8_gemm_bind_weights(v, w, &g);
  s8_gemm_run(v, g);
  return true;
}

}  // namespace simdtensor
