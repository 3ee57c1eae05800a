// f32 GEMM family: microkernel signature, variant table entries and the scalar reference.
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum Activation : int { kActNone = 0, kActRelu = 1, kActGelu = 2 };

// Microkernel flags.
enum : unsigned {
  kGemmAccumulate = 1u,  // C += A·B (else C = A·B)
  kGemmEpilogue = 2u,    // then apply bias[n] and the activation (only on the last K block)
  // f32-gemm microkernels only: row i of A·B times bias[i] before it is stored (or added, with kGemmAccumulate);
  // `bias` then holds the tile's m row factors, no column bias is added. The attention's 1/Σ of each softmax row,
  // applied to its P·V context rows in registers.
  kGemmRowScale = 4u,
};

// C[m×n] (ldc) (+)= Apack · Bpack over kc steps.
//   a: packed A micro-panel, kc groups of `mr` floats (row i of group p is A[i][p]); rows >= m are ignored.
//   b: packed B micro-panel, kc groups of `nr` floats (zero-padded past n).
//   bias: nr-long slice (may be null), act: Activation.
// 1 <= m <= mr, 1 <= n <= nr.
using F32GemmUkernelFn = void (*)(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c,
                                  size_t ldc, unsigned flags, const float* bias, int act);

// The same product with A read in place (no packing): row i at a + i·lda, step p at +p. For small or one-off
// products where packing A is a visible share of the time (attention's Q·Kᵀ and P·V), and the driver's blocked
// path. 1 <= m <= mr_sa: the strided-A entry may take a taller tile than the packed one (F32GemmVariant::mr_sa).
using F32GemmUkernelSaFn = void (*)(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b,
                                    float* c, size_t ldc, unsigned flags, const float* bias, int act);

struct F32GemmVariant {
  const char* name;
  Isa isa;
  size_t mr, nr;
  F32GemmUkernelFn ukernel;
  F32GemmUkernelSaFn ukernel_sa;  // the kernel's strided-A twin (f32_gemm_sa_<tile>__<isa>)
  size_t mr_sa;                   // rows ukernel_sa accepts (>= mr; its tile is mr_sa × nr)
};

#define ST_DECLARE_F32_GEMM(name, sa_name) \
  void name(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, size_t ldc, unsigned flags, \
            const float* bias, int act); \
  void sa_name(size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc, \
                 unsigned flags, const float* bias, int act);
#define ST_F32_GEMM(name, sa_name, isa, mr, nr, mr_sa) ST_DECLARE_F32_GEMM(name, sa_name)
#include "kernels/f32-gemm/kernels.inc"
#undef ST_F32_GEMM

// All variants compiled into this binary, best first (those this CPU can't run included); filled in cpu/dispatch.cc.
extern const VariantTable<F32GemmVariant> f32_gemm_table;

// Scalar reference, plain loops with double accumulation: C[M×N] = act(A[M×K]·op(B) + bias).
// b is [K×N] (ldb) or, with trans_b, [N×K] (ldb). Used by tests only.
void f32_gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                        bool trans_b, float* c, size_t ldc, const float* bias, int act);
float f32_activation_reference(float x, int act);

}  // namespace simdtensor
