// Drivers for the f32 elementwise and row-wise kernels: large calls are split into contiguous chunks over the pool.
#pragma once
#include <cstddef>
#include "kernels/f32-eltwise/f32-eltwise.h"

namespace simdtensor {

// Minimum items per chunk. These ops are memory-bound, so a chunk must be big enough (~128 KiB of each operand)
// that the pass over it dwarfs handing it to another core; gelu does ~20 flops per element, so it splits sooner.
constexpr size_t kEltwiseMinChunk = 32768;
constexpr size_t kEltwiseComputeMinChunk = 8192;
constexpr size_t kRowwiseMinChunkElems = 16384;

void f32_binary_run(const F32EltwiseVariant& v, int op, size_t n, const float* a, const float* b, float* out);
void f32_binary_row_run(const F32EltwiseVariant& v, int op, size_t rows, size_t cols, const float* a,
                        const float* row, float* out);
void f32_activation_run(const F32EltwiseVariant& v, int act, size_t n, const float* x, float* out);
void f32_softmax_run(const F32EltwiseVariant& v, bool log, size_t rows, size_t cols, const float* x, float* out);
void f32_layernorm_run(const F32EltwiseVariant& v, size_t rows, size_t cols, const float* x, const float* gamma,
                       const float* beta, float eps, float* out);

}  // namespace simdtensor
