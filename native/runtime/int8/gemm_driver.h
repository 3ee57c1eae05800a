// int8 GEMM driver over prepacked B: A packing into the variant's layout/domain, M blocking, tiling, threads.
// Plain C++ (no N-API), callable from any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {

class PackedS8Weights;

struct S8GemmArgs {
  size_t m, n, k;
  const void* a;  // M×K bytes, row stride lda
  size_t lda;
  bool a_unsigned;
  const int32_t* a_zero;  // A's zero points (true domain): per row with stride 1, per tensor with stride 0; null = 0
  size_t a_zero_stride;
  const float* a_scale;  // same convention; read only for f32 / int8 outputs
  size_t a_scale_stride;
  const int8_t* b_panels;   // pack_b_s8 for {v.nr, round_up(k, v.kstep), v.kgroup}
  const int32_t* colcorr;   // [n] colsum(B') - K·ZB'
  const int32_t* zb;        // [n] ZB' or null
  const float* b_scale;     // [n]; read only for f32 / int8 outputs
  int out;                  // S8GemmOut
  void* c;                  // M×N of the output type, row stride ldc elements
  size_t ldc;
  const float* bias;        // [n] or null (f32 / int8 outputs)
  int act;                  // 0 none, 1 relu, 2 gelu, 3+ the conv activations (f32 / int8 outputs; activation.h)
  float out_scale;          // int8 outputs: q = clamp(rne(y / out_scale) + out_zero)
  int32_t out_zero;
  size_t kc_max;  // K block bound for the tiled GEMM (s8_gemm_kc); 0 = s8_gemm_kc_max()
  float act_a, act_b;  // the activation's parameters (ConvAct a, b)
};

// The epilogue fields every tile of call g shares (output type, activation, requantization); the drivers fill the
// per-row and per-column pointers.
inline S8GemmEpilogue s8_gemm_epilogue(const S8GemmArgs& g) {
  const bool bytes_out = g.out == kS8OutS8 || g.out == kS8OutU8;
  const int32_t qmin = g.out == kS8OutS8 ? -128 : 0, qmax = g.out == kS8OutS8 ? 127 : 255;
  S8GemmEpilogue e{};
  e.out = g.out;
  e.act = g.act;
  e.act_a = g.act_a;
  e.act_b = g.act_b;
  e.out_inv_scale = bytes_out ? 1.0f / g.out_scale : 1.0f;
  e.out_zero = bytes_out ? g.out_zero : 0;
  e.out_lo = float(qmin - e.out_zero);
  e.out_hi = float(qmax - e.out_zero);
  return e;
}
// `base` pointed at the per-column data of call g from column j on (B's column terms, scales, bias).
inline S8GemmEpilogue s8_gemm_epilogue_at(const S8GemmEpilogue& base, const S8GemmArgs& g, size_t j) {
  const bool need_scales = g.out != kS8OutI32;
  S8GemmEpilogue ep = base;
  ep.colcorr = g.colcorr + j;
  ep.zb = g.zb ? g.zb + j : nullptr;
  ep.sb = need_scales ? g.b_scale + j : nullptr;
  ep.bias = g.bias && need_scales ? g.bias + j : nullptr;
  return ep;
}
// Bytes of one output element of type `out` (S8GemmOut).
inline size_t s8_gemm_out_bytes(int out) { return (out == kS8OutI32 || out == kS8OutF32) ? 4 : 1; }

// Fills the B fields of `g` from packed weights for variant v (packing for its layout on first use).
void s8_gemm_bind_weights(const S8GemmVariant& v, PackedS8Weights& w, S8GemmArgs* g);
// A call's arguments with its shape, A (row stride lda; u8 bytes where a_unsigned) and w bound for v; the caller
// adds A's zero points and scales, and the output.
inline S8GemmArgs s8_gemm_args(const S8GemmVariant& v, PackedS8Weights& w, size_t m, size_t n, size_t k, const void* a,
                               size_t lda, bool a_unsigned) {
  S8GemmArgs g{};
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = lda;
  g.a_unsigned = a_unsigned;
  s8_gemm_bind_weights(v, w, &g);
  return g;
}

// Rows of packed A kept per M block (so one block stays in L2 while every B panel streams past it).
size_t s8_gemm_mc(const S8GemmVariant& v, size_t kpad);

// K blocking of the tiled GEMM (kGroups layouts; never AMX's row layout): K cut into equal blocks of at most kmax
// (a multiple of v.kstep) so one B panel slice (NR·kc bytes) stays in L1 across the MR tiles of an M block; the
// partial sums wait in int32 tiles and the epilogue runs after the last block (bit-identical). OFF by default: on
// this Zen 5 it measured slower at K = 4096 than streaming whole-K panels from L2 (docs/int8.md). kmax = 0 or
// kpad <= kmax: kpad (one block). SIMDTENSOR_S8_KC (read once) sets the default kmax for A/B runs on other CPUs.
constexpr size_t kS8GemmKcMax = 0;
size_t s8_gemm_kc_max();
size_t s8_gemm_kc(const S8GemmVariant& v, size_t kpad, size_t kmax);

// C = epilogue(A·B). M <= kS8GemvMaxM runs the small-M kernel that reads v's panels (s8_gemv_for), if v has one.
void s8_gemm_run(const S8GemmVariant& v, const S8GemmArgs& g);
// The tiled GEMM at every M (the tests' way to reach v's microkernel at small M).
void s8_gemm_run_tiles(const S8GemmVariant& v, const S8GemmArgs& g);

}  // namespace simdtensor
