// DynamicQuantizeLinear built with AVX2 (8-wide division and selects); the same source as the baseline build.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "runtime/onnx/ops.h"
#include "runtime/onnx/quant_impl.h"

namespace simdtensor {

void onnx_dynamic_quantize_u8__avx2(const float* x, size_t n, uint8_t* out, float* scale, int32_t* zero_point) {
  onnx_detail::dynamic_quantize_u8(x, n, out, scale, zero_point);
}

}  // namespace simdtensor
