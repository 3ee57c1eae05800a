// f32 elementwise and row-reduction family: add/mul (with row broadcast), relu, gelu, softmax, log-softmax, layernorm.
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum BinaryOp : int { kBinAdd = 0, kBinSub = 1, kBinMul = 2 };

struct F32EltwiseVariant {
  const char* name;  // ISA suffix, e.g. "avx512f"
  Isa isa;
  // out[i] = a[i] op b[i]                        (n elements)
  void (*binary)(int op, size_t n, const float* a, const float* b, float* out);
  // out[r][c] = a[r][c] op row[c]                (rows × cols, contiguous)
  void (*binary_row)(int op, size_t rows, size_t cols, const float* a, const float* row, float* out);
  // out[i] = act(x[i]), act in Activation (relu, gelu)
  void (*activation)(int act, size_t n, const float* x, float* out);
  // Row-wise softmax (log=false) or log-softmax (log=true) over cols.
  void (*softmax)(bool log, size_t rows, size_t cols, const float* x, float* out);
  // Row-wise layernorm: (x-mean)/sqrt(var+eps)*gamma+beta; gamma/beta may be null (1 and 0).
  void (*layernorm)(size_t rows, size_t cols, const float* x, const float* gamma, const float* beta, float eps,
                    float* out);
};

#define ST_F32_ELTWISE(sym, isa) extern const F32EltwiseVariant sym;
#include "kernels/f32-eltwise/kernels.inc"
#undef ST_F32_ELTWISE

// All compiled variants, best first; filled in cpu/dispatch.cc.
extern const VariantTable<F32EltwiseVariant> f32_eltwise_table;

// Plain scalar references (double accumulators) for the tests.
extern const F32EltwiseVariant f32_eltwise_reference;

}  // namespace simdtensor
