// BLIS-style driver for the half GEMM family over prepacked half B panels (same loop nest as the f32 driver), and
// the plain-C++ entry points the binding and the executor call (any thread; no N-API inside).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include "kernels/half-gemm/half-gemm.h"

namespace simdtensor {

class PackedHalfWeights;

struct HalfGemmArgs {
  size_t m, n, k;
  const void* a;  // M×K of a_type, row stride lda (elements)
  ElemType a_type;
  size_t lda;
  const uint16_t* b_panels;  // pack_b_half layout of the variant
  float* c;                  // M×N, row stride ldc
  size_t ldc;
  const float* bias;  // N floats or null
  int act;
};

struct HalfGemmBlocking {
  size_t kc, mc, small_m;
};
HalfGemmBlocking half_gemm_blocking(const HalfGemmVariant& v);

// Runs one variant (tests call this for every compiled variant): at M <= half_gemv_max_m_for(v) through the small-M
// kernel that reads v's panels (half_gemv_small_m), else (and where there is none) through the tiles.
void half_gemm_run(const HalfGemmVariant& v, const HalfGemmArgs& g);
// The GEMM tiles only, at any M (tests compare the two paths).
void half_gemm_run_tiles(const HalfGemmVariant& v, const HalfGemmArgs& g);
// The most rows v's panels go through the small-M kernel. On AMX panels the tile engine is as fast at M = 1 and
// faster from M = 2: measured on a 16-core Xeon (one thread, bf16 x bf16, GFLOP/s, medians of 7-9 rounds,
// alternated process pairs, tile vs small-M kernel): 1x4096x4096 21.9/18.7 vs 21.4/18.3, 2x4096x4096 30/32/28 vs
// 23/29/23, 4x4096x4096 65-80 vs 59-61, 8x4096x4096 139-166 vs 84 in four pairs of five; so AMX panels take the
// small-M kernel for one row only.
inline size_t half_gemv_max_m_for(const HalfGemmVariant& v) {
  return v.isa == Isa::kAmx ? std::min<size_t>(1, half_gemv_max_m()) : half_gemv_max_m();
}
// The small-M kernel half_gemm_run takes for m rows of a_type over v's panels, or null.
inline const HalfGemvVariant* half_gemv_small_m(const HalfGemmVariant& v, ElemType a_type, size_t m) {
  return m <= half_gemv_max_m_for(v) ? half_gemv_for(v, a_type) : nullptr;
}
// The kernel name that runs for m rows (what the ops report).
inline const char* half_kernel_for_m(const HalfGemmVariant& v, ElemType a_type, size_t m) {
  const HalfGemvVariant* sv = half_gemv_small_m(v, a_type, m);
  return sv ? sv->name : v.name;
}

// The output side of the half matmul entries: out is M×N of out_type (f32, f16 or bf16; row stride ldo), written
// after the fused bias (N floats or null) and activation.
struct HalfMatmulOut {
  void* out;
  ElemType out_type;
  size_t ldo;
  const float* bias;
  int act;
};

// out = act(A · W + bias) with W prepacked. A is M×K of a_type (lda). Picks the variant under the current cap,
// checks the fp16 range guard, re-lays W's panels if the chosen variant wants another layout. Returns the kernel
// name that ran.
struct HalfMatmulArgs {
  size_t m;
  const void* a;
  ElemType a_type;
  size_t lda;
  PackedHalfWeights* w;
  HalfMatmulOut o;
};
const char* half_matmul(const HalfMatmulArgs& args);

// The same for a one-off W (raw half bits of w_type, K×N or N×K with trans_b): packed per call in scratch.
struct HalfMatmulRawArgs {
  size_t m, n, k;
  const void* a;
  ElemType a_type;
  size_t lda;
  const uint16_t* b;
  ElemType b_type;
  size_t ldb;
  bool trans_b;
  HalfMatmulOut o;
};
const char* half_matmul_raw(const HalfMatmulRawArgs& args);

// The variant half_matmul would run for these operand types (ignoring the range guard): for cpuInfo and packing.
const HalfGemmVariant& half_matmul_variant(ElemType b_type, ElemType a_type);

}  // namespace simdtensor
