// int8 GEMM family: u8/s8 activations × s8/u8 weights, int32 accumulation, fused int32/f32/int8 epilogues.
//
// Every kernel multiplies bytes in one fixed pair of domains and the epilogue turns the raw dot product into
// the exact integer product of the caller's values:
//   x86 (VNNI, AVX2, AMX) and the scalar kernel read A as u8, NEON sdot reads A as s8; B is always s8.
//   A' = A + oa (oa = +128 for s8 activations on a u8 kernel, -128 for u8 activations on an s8 kernel: one xor
//   of the sign bit while packing), B' = B + ob (ob = -128 for u8 weights, else 0).
//   With true zero points za (per row) and zb (per column), ZA' = za + oa and ZB' = zb + ob:
//     sum_k (a - za)(b - zb) = raw - ZA'_i·colcorr_j - ZB'_j·rowsum(A'_i),   colcorr_j = colsum(B'_j) - K·ZB'_j
//   All of it in wrapping 32-bit arithmetic, so the result is exact whenever the true value fits in int32
//   (always for K <= 33025; for K <= 65793 when |b - zb| <= 128).
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

// kS8OutAcc (K blocking, microkernels only): store the raw accumulators, uncorrected, as one MR×NR int32 tile in the
// kernel's own order at c (ldc and n ignored), for a later call over the next K block to start from (acc_in).
enum S8GemmOut : int { kS8OutI32 = 0, kS8OutF32 = 1, kS8OutS8 = 2, kS8OutU8 = 3, kS8OutAcc = 4 };

// How the driver packs A for a variant.
enum class S8ALayout : int {
  kGroups = 0,  // per MR-row tile: kpad/g groups of MR×g bytes (row i's g consecutive k at +g·i), g = kgroup:
                // g = 4 is one 32-bit broadcast per row (vpdpbusd, SDOT); g = 8 puts row pairs in one q-register (MMLA)
  kRows = 1,    // per MR-row tile: MR rows of kpad bytes (AMX tile rows)
};

// The epilogue's inputs, pointers already offset to the tile's first row (per-row arrays) and first column
// (per-column arrays). Per-column arrays are read only for the tile's n valid columns.
struct S8GemmEpilogue {
  int out;                 // S8GemmOut
  const int32_t* za;       // [m] ZA' per row (kernel domain)
  const int32_t* rs;       // [m] row sums of A' (read only when zb != null)
  const int32_t* colcorr;  // [n]
  const int32_t* zb;       // [n] ZB' per column, or null when all are zero
  const float* sa;         // [m] per-row scale (f32 / requantized outputs)
  const float* sb;         // [n] per-column scale
  const float* bias;       // [n] or null
  int act;                 // ConvActivation code: 0 none, 1 relu, 2 gelu (= Activation), 3+ the conv family's
  float act_a, act_b;      // its parameters (kConvAct* a, b: clip bounds, leaky slope, hard-sigmoid / affine)
  float out_inv_scale;     // requantized outputs: q = clamp(rne(y · out_inv_scale) + out_zero)
  float out_lo, out_hi;    // qmin - out_zero, qmax - out_zero (clamp before rounding; identical result)
  int32_t out_zero;
  // K blocking: the accumulators start from this tile (written by a kS8OutAcc call of the same kernel over the
  // previous K blocks) instead of zero; null = zero. Not read by kS8ALayout::kRows kernels (AMX), which the driver
  // never splits along K.
  const int32_t* acc_in;
  // A per-tensor ZA' (the driver's fast path; null = per row through za and colcorr): colterm [n] = −ZA'·colcorr_j,
  // added to each row's sums in place of the za[i]·colcorr_j products (the same wrapping int32 result), and
  // sab [n] = sa·sb_j (one float multiply, as per element), read in place of sa and sb.
  const int32_t* colterm;
  const float* sab;
  // Rows of A read in place (0 = the packed tile): row i of a full MR-row tile at a + i·a_lda, k-group p at + 4p, the
  // bytes already in the kernel's domain and K a whole number of k-groups (kpad = K). Only the kernels written over
  // ukernel.h's s8_gemm_tile (the kGroups layout with k-groups of 4 and a K step of 4) read it, and only for m = MR;
  // the driver packs the last partial tile as before (s8_gemm_task).
  size_t a_lda;
};

// C[m×n] (ldc elements of the output type) = epilogue(A'·B') over kpad (a multiple of the variant's kstep).
//   a: packed A tile (layout per variant), b: packed B panel (kpad/kgroup groups of nr×kgroup bytes).
//   1 <= m <= mr, 1 <= n <= nr. kpad may be one K block of the tile (see acc_in / kS8OutAcc): the kGroups layouts keep
//   a K slice of a tile or panel contiguous (a + k0·MR, b + k0·NR).
using S8GemmUkernelFn = void (*)(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                                 size_t ldc, const S8GemmEpilogue* ep);
using S8GemmHookFn = void (*)();

struct S8GemmVariant {
  const char* name;
  Isa isa;
  size_t mr, nr;
  size_t kgroup;      // consecutive k of one column (and one A row) stored together: 4, or 8 for MMLA
  size_t kstep;       // K is zero-padded to a multiple of this (a multiple of kgroup; 64 for AMX tiles)
  bool a_signed;      // kernel reads A bytes as s8 (NEON sdot) rather than u8
  S8ALayout a_layout;
  S8GemmUkernelFn ukernel;
  S8GemmHookFn begin, end;  // once per driver task on its thread (AMX tile configuration), may be null
};

#define ST_DECLARE_S8_GEMM(name)                                                                          \
  void name(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c, size_t ldc, \
            const S8GemmEpilogue* ep);
#define ST_S8_GEMM(name, isa, mr, nr, kgroup, kstep, a_signed, layout, begin, end) ST_DECLARE_S8_GEMM(name)
#include "kernels/s8-gemm/kernels.inc"
#undef ST_S8_GEMM
#if defined(__x86_64__) || defined(_M_X64)
void s8_gemm_amx_begin();
void s8_gemm_amx_end();
#endif

// All variants compiled into this binary, best first (those this CPU can't run included); filled in
// cpu/dispatch.cc. s8_gemm_table.select() never fails: the scalar variant is always compiled.
extern const VariantTable<S8GemmVariant> s8_gemm_table;

// ---- the small-M kernels (gemv.h): up to mr rows of A per pass over the GEMM's own B panels ----
// C[m×n] = epilogue(A'·B') for 1 <= m <= mr, 1 <= n <= nr, over kpad (a multiple of 4); a: m rows of kpad bytes at
// stride lda (the kernel's domain, zero past K); b: one B panel of the GEMM layout {nr, kpad, kgroup 4}.
using S8GemvUkernelFn = void (*)(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b,
                                 void* c, size_t ldc, const S8GemmEpilogue* ep);
struct S8GemvVariant {
  const char* name;
  Isa isa;
  size_t mr, nr;  // rows per pass; panel width (equal to the GEMM variant whose panels it reads)
  bool a_signed;  // reads A as s8 (NEON sdot)
  S8GemvUkernelFn ukernel;
};
#define ST_S8_GEMV(name, isa, mr, nr, a_signed)                                                                 \
  void name(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b, void* c, size_t ldc, \
            const S8GemmEpilogue* ep);
#include "kernels/s8-gemm/gemv.inc"
#undef ST_S8_GEMV
// Best first; filled in cpu/dispatch.cc. Not every GEMM variant has one (AMX's K step of 64 and i8mm's k-groups of
// 8 are other panel layouts): s8_gemv_for() returns null there and callers run the GEMM.
extern const VariantTable<S8GemvVariant> s8_gemv_table;
// Rows up to which the drivers run the small-M kernel rather than the GEMM (kS8GemvMaxM; the environment variable
// SIMDTENSOR_S8_SMALL_M, read once, lowers it, 0 turning the path off: for A/B benchmarks). Measured at 4096×4096:
// the extra accumulator sets win at M = 1..2; from M = 8 the GEMM tile (A packed, the same number of chains) was
// as fast or faster (M = 16: 1.1–1.25 ms vs 1.5–1.9 ms), so the small-M kernels stop at 4.
constexpr size_t kS8GemvMaxM = 4;
size_t s8_gemv_max_m();
// The allowed small-M variant that reads GEMM variant v's panels (same nr, k-groups of 4, K step 4, same A domain).
// Any GEMM layout of 4-byte K groups (AMX's 64-byte K steps included: the same columns, K zero-padded further) can
// feed the small-M kernel of its NR; the drivers pad the rows of A to that layout's kpad (s8_gemv_kpad).
inline const S8GemvVariant* s8_gemv_for(const S8GemmVariant& v) {
  if (v.kgroup != 4 || v.kstep % 4 != 0) return nullptr;
  return s8_gemv_table.best([&](const S8GemvVariant& g) { return g.nr == v.nr && g.a_signed == v.a_signed; });
}

inline size_t s8_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// ---- scalar reference (tests only): plain loops on the true values, int64 sums, no domain tricks ----

struct S8RefArgs {
  size_t m, n, k;
  const void* a;  // m×k (lda), s8 or u8
  size_t lda;
  bool a_unsigned;
  const void* b;  // k×n (ldb), or n×k when trans_b
  size_t ldb;
  bool b_unsigned, trans_b;
  const int32_t* za;  // per row (stride za_stride; 0 = per tensor), null = 0
  size_t za_stride;
  const int32_t* zb;  // per column (stride zb_stride), null = 0
  size_t zb_stride;
  const float* sa;  // per row scale (stride sa_stride)
  size_t sa_stride;
  const float* sb;  // per column (stride sb_stride)
  size_t sb_stride;
  const float* bias;
  int act;  // ConvActivation code (0-2 = Activation)
  int out;
  float out_scale;
  int32_t out_zero;
  void* c;
  size_t ldc;
  float act_a = 0.0f, act_b = 0.0f;  // the activation's parameters (activation.h)
};
void s8_gemm_reference(const S8RefArgs& r);

// The requantization rule shared by every kernel (and quantize): v = y·inv_scale; NaN → 0;
// clamp to [lo, hi]; round half to even. Returns the integer before adding the zero point.
int32_t s8_requant_reference(float y, float inv_scale, float lo, float hi);

}  // namespace simdtensor
