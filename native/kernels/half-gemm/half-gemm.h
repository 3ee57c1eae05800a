// Half-precision GEMM family (f16 and bf16 weights, f32 output): variant table entries, panel layouts, the
// microkernel signature and the scalar reference. Kernels live beside it in f16_<isa>.cc and bf16_<isa>.cc.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"
#include "kernels/f32-gemm/f32-gemm.h"  // Activation, kGemmAccumulate, kGemmEpilogue

namespace simdtensor {

// Element type of A or B. Half values travel as their 16 raw bits.
enum class ElemType : int { kF32 = 0, kF16 = 1, kBf16 = 2 };

// How a variant wants its A operand packed (its instructions decide).
enum class HalfAPack : int {
  kF32 = 0,    // kc groups of mr floats: convert-then-FMA kernels (A may be f32, f16 or bf16; f32 A stays exact)
  kHalf = 1,   // kc groups of mr halves: native fp16 FMA kernels
  kPairs = 2,  // ceil(kc/2) groups of mr 32-bit (A[i][2q], A[i][2q+1]) pairs: vdpbf16ps kernels
  kRows = 3,   // mr rows of round_up(kc, 32) halves, zero-padded: AMX tiles (rows past m are zero)
  kHalfDup = 4,  // kc groups of mr 32-bit (h, h): native fp16 kernels whose ISA broadcasts 32 bits from memory
                 // as a plain load but 16 bits only through the shuffle port (AVX512-FP16)
};

// Prepacked B panel layout: ceil(N/nr) panels of round_up(K, kpad) K steps, nr columns each, zero-padded.
//   kr = 1: K step p holds nr halves at p·nr; with ilv > 0, columns j and j+ilv of each 2·ilv block are adjacent
//           (half 2t ↔ column t, half 2t+1 ↔ column ilv+t), so a bf16 load splits into two vectors by
//           shift/mask.
//   kr = 2: K steps (2q, 2q+1) of column j sit together at q·2·nr + 2j (vdpbf16ps / AMX VNNI-style pairs).
// The K block [p0, p0+kc) of a panel starts at p0·nr halves for every layout (p0 a multiple of kpad).
struct HalfBLayout {
  uint32_t nr, kr, ilv, kpad;
  bool operator==(const HalfBLayout& o) const { return nr == o.nr && kr == o.kr && ilv == o.ilv && kpad == o.kpad; }
  bool operator<(const HalfBLayout& o) const {
    if (nr != o.nr) return nr < o.nr;
    if (kr != o.kr) return kr < o.kr;
    if (ilv != o.ilv) return ilv < o.ilv;
    return kpad < o.kpad;
  }
};

// C[m×n] (ldc) (+)= Apack · Bpanel over kc K steps; flags/bias/act as in the f32 family (the epilogue only on
// the last K block). `a` is packed per the variant's HalfAPack; `b` points at the K block inside a panel.
// 1 <= m <= mr, 1 <= n <= nr; kc may be 0 (then C = epilogue(0 or C)).
using HalfGemmUkernelFn = void (*)(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c,
                                   size_t ldc, unsigned flags, const float* bias, int act);

struct HalfGemmVariant {
  const char* name;
  Isa isa;
  ElemType b_type;  // kF16 or kBf16
  size_t mr;
  HalfBLayout b;
  HalfAPack a;
  // Native fp16 accumulation: K steps summed in fp16 lanes before folding into f32 (0: f32 accumulation).
  size_t kblock;
  HalfGemmUkernelFn ukernel;
};

#define ST_HALF_GEMM(sym, isa, type, mr, nr, kr, ilv, kpad, apack, kblock) \
  void sym(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc, unsigned flags, \
           const float* bias, int act);
#include "kernels/half-gemm/kernels.inc"
#undef ST_HALF_GEMM

// All compiled variants, best first within each B type (those this CPU can't run included); filled in
// cpu/dispatch.cc.
extern const VariantTable<HalfGemmVariant> half_gemm_table;

// Which variant runs for B of `b_type` and A of `a_type` under the current cap: the first allowed one whose A
// packing accepts a_type (kF32 packing accepts any A; the others need A of B's type). `range_ok` says whether a
// native-fp16 (kblock > 0) variant may run for this product's magnitudes (see half_gemm_fp16_range_ok).
inline const HalfGemmVariant& half_gemm_select(ElemType b_type, ElemType a_type, bool range_ok = true) {
  return half_gemm_table.select([=](const HalfGemmVariant& v) {
    return v.b_type == b_type && (v.a == HalfAPack::kF32 || a_type == b_type) && (v.kblock == 0 || range_ok);
  });
}

// The native-fp16 kernels accumulate kblock products in fp16 lanes: they run only when
// kblock · max|A| · max|B| stays below half the fp16 maximum (no overflow to Inf) and max|A| · max|B| is at
// least 2^-8 (products far from the fp16 subnormal range). Otherwise the f32-accumulating variant runs.
inline bool half_gemm_fp16_range_ok(size_t kblock, float amax, float bmax) {
  const double p = double(amax) * double(bmax);  // NaN or Inf fail both tests
  return p >= 1.0 / 256.0 && double(kblock) * p <= 32752.0;
}

// ---- the small-M kernels (gemv.h): up to mr rows of A per pass over a GEMM variant's own B panels ----
// C[m×n] (ldc) = act(A·Bpanel + bias) for 1 <= m <= mr, 1 <= n <= nr, over k K steps (k may be 0); a: m rows of k
// elements of a_type at stride lda (elements), read in place; b: one panel of a layout {nr, kr, ilv, any kpad}.
using HalfGemvUkernelFn = void (*)(size_t m, size_t n, size_t k, const void* a, size_t lda, const uint16_t* b,
                                   float* c, size_t ldc, const float* bias, int act);
struct HalfGemvVariant {
  const char* name;
  Isa isa;
  ElemType b_type;
  size_t mr;
  uint32_t nr, kr, ilv;  // the panel layout it reads (kpad free)
  ElemType a_type;       // kF32 (convert-then-FMA) or kBf16 (K pairs of bf16 rows, vdpbf16ps)
  HalfGemvUkernelFn ukernel;
};
#define ST_HALF_GEMV(sym, isa, type, mr, nr, kr, ilv, atype)                                                  \
  void sym(size_t m, size_t n, size_t k, const void* a, size_t lda, const uint16_t* b, float* c, size_t ldc, \
           const float* bias, int act);
#include "kernels/half-gemm/gemv.inc"
#undef ST_HALF_GEMV
// Best first; filled in cpu/dispatch.cc.
extern const VariantTable<HalfGemvVariant> half_gemv_table;
// Rows up to which the driver runs the small-M kernel rather than the GEMM (kHalfGemvMaxM; the environment
// variable SIMDTENSOR_HALF_SMALL_M, read once, lowers it, 0 turning the path off: for A/B benchmarks).
constexpr size_t kHalfGemvMaxM = 8;
size_t half_gemv_max_m();
// The allowed small-M variant that reads GEMM variant v's panels for A of a_type, or null (the GEMM runs).
inline const HalfGemvVariant* half_gemv_for(const HalfGemmVariant& v, ElemType a_type) {
  return half_gemv_table.best([&](const HalfGemvVariant& g) {
    return g.b_type == v.b_type && g.nr == v.b.nr && g.kr == v.b.kr && g.ilv == v.b.ilv &&
           (g.a_type == ElemType::kF32 || g.a_type == a_type);
  });
}

// Scalar reference: double accumulation of the exactly widened operands. a is M×K (lda) of a_type,
// b is K×N (ldb) or, with trans_b, N×K, of b_type. C = act(A·B + bias).
void half_gemm_reference(size_t m, size_t n, size_t k, const void* a, ElemType a_type, size_t lda, const uint16_t* b,
                         ElemType b_type, size_t ldb, bool trans_b, float* c, size_t ldc, const float* bias, int act);

}  // namespace simdtensor
