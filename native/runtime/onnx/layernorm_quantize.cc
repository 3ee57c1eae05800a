// LayerNorm whose output also feeds a DynamicQuantize (the ONNX layernorm-quantize fusion): the norm and the range
// of its output in one walk over cache-sized row blocks, then one quantize pass.
#include <algorithm>

#include "runtime/int8/linear.h"
#include "runtime/onnx/ops.h"

namespace simdtensor {

bool onnx_layernorm_quantize_u8(const F32EltwiseVariant& ev, const QuantizeVariant& qv, const OnnxLayerNormArgs& a,
                                uint8_t* q, float* scale, int32_t* zero_point) {
  const size_t n = a.rows * a.cols;
  // Row blocks of ~16 KiB: each block's range is read back from L1 right after the norm wrote it, so the output is
  // read once more in all (the quantize pass) instead of twice (a separate min/max pass, then the quantize).
  const size_t block = a.cols ? std::max<size_t>(1, 4096 / a.cols) : a.rows;
  bool nan = false;
  float mn = 0.0f, mx = 0.0f;  // an empty output is all zeros (quantize_row_dynamic's rule for k = 0)
  for (size_t r0 = 0; r0 < a.rows && a.cols; r0 += block) {
    const size_t rb = std::min(block, a.rows - r0), off = r0 * a.cols;
    ev.layernorm(rb, a.cols, a.x + off, a.residual ? a.residual + off : nullptr, a.gamma, a.beta, a.eps, a.y + off);
    float bmn, bmx;
    nan |= qv.minmax(rb * a.cols, a.y + off, &bmn, &bmx);
    mn = r0 ? std::min(mn, bmn) : bmn;
    mx = r0 ? std::max(mx, bmx) : bmx;
  }
  return quantize_row_in_range(qv, n, a.y, true, nan, mn, mx, q, scale, zero_point);
}

}  // namespace simdtensor
