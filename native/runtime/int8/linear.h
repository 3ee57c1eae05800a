// Dynamic-quantized linear layer: f32 activations quantized per row to u8 (asymmetric) at run time, the int8
// GEMM over prepacked weights, dequantized to f32 with bias and activation fused in the GEMM epilogue.
// Plain C++ (no N-API), callable from any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {

class PackedS8Weights;

// Quantizes each row of x (m×k, row stride ldx) with its own scale / zero point (asymmetric u8, or symmetric
// s8 when !is_unsigned) chosen from the row's min/max. Rows with NaN or ±Inf get scale NaN and bad_row[i] = 1
// (their bytes are the zero point); others bad_row[i] = 0.
void quantize_rows_dynamic(const QuantizeVariant& qv, size_t m, size_t k, const float* x, size_t ldx,
                           bool is_unsigned, uint8_t* out, size_t ldo, float* scales, int32_t* zeros,
                           uint8_t* bad_row);

// One row of quantize_rows_dynamic: returns true (scale NaN, bytes = zero point) for a row with NaN or ±Inf.
bool quantize_row_dynamic(const QuantizeVariant& qv, size_t k, const float* x, bool is_unsigned, uint8_t* out,
                          float* scale, int32_t* zero);

struct S8LinearDynamicArgs {
  size_t m;
  const float* x;  // m × w.k(), row stride ldx
  size_t ldx;
  PackedS8Weights* w;  // n × k weights with their scales (and zero points)
  const float* bias;   // [n] or null
  int act;
  float* y;  // m × w.n(), row stride ldy
  size_t ldy;
};

// y = act(dequant(quant(x) · W) + bias). A row of x holding NaN or ±Inf gives a row of NaN.
void s8_linear_dynamic_run(const S8GemmVariant& gv, const QuantizeVariant& qv, const S8LinearDynamicArgs& args);

}  // namespace simdtensor
