// Fused scaled-dot-product attention over strided Q/K/V: per (batch, head) scores = scale·Q·Kᵀ (+ mask), softmax
// in place, context = P·V, written strided. Parallel over batch·heads on the pool; each task runs on one thread.
#pragma once
#include <cstddef>

#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {

// A strided operand: element (b, row, head, c) is at ptr[b·batch + row·row_stride + head·head + c] (c contiguous).
struct F32AttnOperand {
  const float* ptr;
  size_t batch, row, head;
};

struct F32AttentionArgs {
  size_t batch, heads;
  size_t seq_q, seq_k;  // rows of Q; rows of K and V
  size_t dk, dv;        // head width of Q/K, of V (and the context)
  F32AttnOperand q, k, v;
  float* out;  // context (b, i, head, c) at out[b·out_batch + i·out_row + head·out_head + c]
  size_t out_batch, out_row, out_head;
  // Additive mask, or null: element (b, head, i, j) at mask[b·ms[0] + head·ms[1] + i·ms[2] + j·ms[3]], each stride
  // 0 where the mask broadcasts; ms[3] is 0 or 1.
  const float* mask;
  size_t ms[4];
  float scale;  // applied to Q·Kᵀ before the mask
};

// One call's shape: the first six fields of F32AttentionArgs.
struct F32AttnShape {
  size_t batch, heads, seq_q, seq_k, dk, dv;
};
// A call's arguments with its shape, Q/K/V and the output (batch, row and head strides); no mask and scale 1, which
// the caller sets where it has them.
inline F32AttentionArgs f32_attention_args(const F32AttnShape& s, const F32AttnOperand& q, const F32AttnOperand& k,
                                           const F32AttnOperand& v, float* out, size_t out_batch, size_t out_row,
                                           size_t out_head) {
  return F32AttentionArgs{s.batch, s.heads, s.seq_q, s.seq_k, s.dk, s.dv, q, k, v, out, out_batch, out_row,
                          out_head, nullptr, {0, 0, 0, 0}, 1.0f};
}

void f32_attention_run(const F32GemmVariant& gv, const F32EltwiseVariant& ev, const F32AttentionArgs& a);

// Scalar reference (double accumulation) for the tests.
void f32_attention_reference(const F32AttentionArgs& a);

}  // namespace simdtensor
