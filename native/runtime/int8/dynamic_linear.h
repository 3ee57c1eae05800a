// Row-wise dynamic quantization entry points that own their scratch: the bad-row count of quantizeRows, and the
// requantized-output linear over f32 activations. Plain C++ (no N-API), any thread.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/int8/gemm_driver.h"

namespace simdtensor {

class PackedS8Weights;

// quantize_rows_dynamic (runtime/int8/linear.h) over m rows of k (row strides k); returns how many rows held NaN or
// ±Inf (their scale is NaN).
size_t quantize_rows_dynamic_count(const QuantizeVariant& qv, size_t m, size_t k, const float* x, bool is_unsigned,
                                   uint8_t* out, float* scales, int32_t* zeros);

// The requantized-output linear: x (g.m × g.k f32, row stride g.k) is quantized per row (u8 asymmetric when
// g.a_unsigned, else s8 symmetric) into scratch, its row parameters into g.a_scale / g.a_zero (m values each,
// writable), then the int8 GEMM over w runs with g's output, bias, activation and requantization. Returns false,
// leaving the output untouched, when a row holds NaN or ±Inf (its scale is NaN: the caller reports it).
bool s8_linear_dynamic_q_run(const S8GemmVariant& v, const QuantizeVariant& qv, const float* x, PackedS8Weights& w,
                             S8GemmArgs g);

}  // namespace simdtensor
