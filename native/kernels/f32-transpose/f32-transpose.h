// f32 2-D transpose family (the NCHW <-> NHWC layout change of the conv, depthwise and pooling ops, and the
// nchwToNhwc / nhwcToNchw ops): y[j][i] = x[i][j], in-register T×T tiles (16×16 AVX-512, 8×8 AVX2, 4×4 NEON).
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

struct F32TransposeVariant {
  const char* name;
  Isa isa;
  // x: rows × cols, row stride ldx (>= cols); y: cols × rows, row stride ldy (>= rows). x and y must not overlap.
  void (*run)(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy);
};

#define ST_F32_TRANSPOSE(sym, isa) extern const F32TransposeVariant sym;
#include "kernels/f32-transpose/kernels.inc"
#undef ST_F32_TRANSPOSE

// Every compiled variant, best first; filled in cpu/dispatch.cc from kernels.inc (ops call .select()).
extern const VariantTable<F32TransposeVariant> f32_transpose_table;

// Plain element loop: the tests' reference.
extern const F32TransposeVariant f32_transpose_reference;

}  // namespace simdtensor
