// f32 elementwise and row-reduction family: add/mul (with row broadcast), relu, gelu, softmax, log-softmax, layernorm.
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

// Div, Max, Min propagate NaN from either operand (TF.js / ONNX semantics); SqDiff is (a - b)².
enum BinaryOp : int { kBinAdd = 0, kBinSub = 1, kBinMul = 2, kBinDiv = 3, kBinMax = 4, kBinMin = 5, kBinSqDiff = 6 };
constexpr int kBinLast = kBinSqDiff;

// Standalone unary ops, with up to two float parameters p0, p1:
//   Clip: min(max(x, p0), p1) (NaN kept)      LeakyRelu: x > 0 ? x : p0·x      Sigmoid: 1 / (1 + e^-x)
//   Tanh, Exp, Sqrt, Rsqrt (1/√x), Erf         Elu: x > 0 ? x : p0·(e^x − 1)
enum UnaryOp : int {
  kUnClip = 0,
  kUnLeakyRelu = 1,
  kUnSigmoid = 2,
  kUnTanh = 3,
  kUnExp = 4,
  kUnSqrt = 5,
  kUnRsqrt = 6,
  kUnErf = 7,
  kUnElu = 8,
};
constexpr int kUnLast = kUnElu;

struct F32EltwiseVariant {
  const char* name;  // ISA suffix, e.g. "avx512f"
  Isa isa;
  // out[i] = a[i] op b[i]                        (n elements)
  void (*binary)(int op, size_t n, const float* a, const float* b, float* out);
  // out[r][c] = a[r][c] op row[c]                (rows × cols, contiguous)
  void (*binary_row)(int op, size_t rows, size_t cols, const float* a, const float* row, float* out);
  // out[i] = act(x[i]), act in Activation (relu, gelu)
  void (*activation)(int act, size_t n, const float* x, float* out);
  // out[i] = op(x[i]; p0, p1), op in UnaryOp (x == out allowed)
  void (*unary)(int op, size_t n, const float* x, float p0, float p1, float* out);
  // Row-wise softmax (log=false) or log-softmax (log=true) over cols of x + add_row, where add_row (cols long, may
  // be null) is added to every row first (attention's padding mask, without a pass of its own). x == out allowed.
  void (*softmax)(bool log, size_t rows, size_t cols, const float* x, const float* add_row, float* out);
  // The softmax unnormalized, for a caller that applies 1/Σ to a narrower product (attention's P·V rows): per row
  // r, t = scale·x + mask row (at mask + r·mask_stride; mask may be null), out = exp(t − max t), inv_sum[r] = 1/Σ out.
  // A NaN in a row makes its inv_sum NaN (not necessarily every out). x == out allowed.
  void (*softmax_scaled)(size_t rows, size_t cols, const float* x, float scale, const float* mask, size_t mask_stride,
                         float* out, float* inv_sum);
  // Row-wise layernorm of t = x + residual (rows × cols; residual may be null): (t-mean)/sqrt(var+eps)*gamma+beta;
  // gamma/beta may be null (1 and 0). t is rounded to float first, so the fused residual equals an Add before it.
  void (*layernorm)(size_t rows, size_t cols, const float* x, const float* residual, const float* gamma,
                    const float* beta, float eps, float* out);
};

#define ST_F32_ELTWISE(sym, isa) extern const F32EltwiseVariant sym;
#include "kernels/f32-eltwise/kernels.inc"
#undef ST_F32_ELTWISE

// All compiled variants, best first; filled in cpu/dispatch.cc.
extern const VariantTable<F32EltwiseVariant> f32_eltwise_table;

// Plain scalar references (double accumulators) for the tests.
extern const F32EltwiseVariant f32_eltwise_reference;

}  // namespace simdtensor
