// Half GEMM microkernels written once over vector traits and instantiated per ISA:
//   half_cvt_gemm_ukernel   — f32 A × half B: each B vector is widened to f32 in registers, then f32 FMA.
//   half_native_gemm_ukernel — f16 A × f16 B on fp16 lanes: kblock K steps are summed in fp16, then folded into
//                              f32 accumulators, so the rounding error does not grow with K (docs/half.md).
// Both end in the same fused epilogue as the f32 family (accumulate, bias, activation, one store).
#pragma once
#include <cstddef>
#include <cstdint>
#include "common/vec_math.h"
#include "kernels/f32-gemm/store.h"
#include "kernels/half-gemm/half-gemm.h"

namespace simdtensor {
namespace {

// Software prefetch distance along a B panel: 8 KiB ahead. Measured on Zen 5 for the 1×4096×4096 GEMV (B from
// DRAM): 2 KiB ahead gave ~33 GB/s of weights, 8–16 KiB ~40 GB/s (noisy host, medians of 41); L2-resident panels
// of the large-M path don't mind.
constexpr size_t kHalfPrefetchHalves = 4096;

// Convert-then-FMA. Load::template load<NV>(b, out) widens one K step of the B panel (NV·W columns, in the
// panel's layout) into NV f32 vectors in natural column order.
// Load for the portable (VecScalar) kernels: widens NV halves one at a time with Cvt (f16_to_f32_scalar or
// bf16_to_f32_scalar from common/half.h).
template <float (*Cvt)(uint16_t)>
struct LoadHalfScalar {
  template <int NV>
  static void load(const uint16_t* b, float* out) {
    for (int j = 0; j < NV; j++) out[j] = Cvt(b[j]);
  }
};

// Loads over the half traits H of common/half_avx2.h / half_avx512.h (W lanes): f16 panels widen W columns per
// vector; bf16 panels interleave columns j and W+j, so one 2·W-lane load widens into both vectors with a shift
// and a mask (no shuffles).
template <class H>
struct LoadF16Vec {
  template <int NV>
  static void load(const uint16_t* b, typename H::R* out) {
    for (int j = 0; j < NV; j++) out[j] = H::widen(H::loadh(b + H::W * j));
  }
};
template <class H>
struct LoadBf16Vec {
  template <int NV>
  static void load(const uint16_t* b, typename H::R* out) {
    static_assert(NV % 2 == 0, "interleaved pairs of vectors");
    for (int t = 0; t < NV / 2; t++) {
      const typename H::I x = H::loadw(b + 2 * H::W * t);
      out[2 * t] = H::bf16_even(x);
      out[2 * t + 1] = H::bf16_odd(x);
    }
  }
};

template <class V, class Load, int MR, int NV, int M>
inline void half_cvt_gemm_tile(size_t n, size_t kc, const float* __restrict a, const uint16_t* __restrict b,
                               float* __restrict c, size_t ldc, unsigned flags, const float* bias, int act) {
  using R = typename V::R;
  constexpr int NR = NV * V::W;
  // With one or two rows (GEMV-like) M·NV chains of dependent FMAs cannot cover the FMA latency while B streams
  // from memory: split K over KS independent accumulator sets, summed once at the end.
  constexpr int KS = M <= 2 ? 4 / M : 1;
  R acc[KS][M][NV];
  for (int s = 0; s < KS; s++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) acc[s][i][j] = V::zero();
  gemm_prefetch_c<V, M, NR>(c, ldc);
  size_t p = 0;
  if constexpr (KS > 1) {
    for (; p + KS <= kc; p += KS) {
      for (int s = 0; s < KS; s++) {
        R bv[NV];
        Load::template load<NV>(b, bv);
        V::prefetch(b + kHalfPrefetchHalves);
        for (int i = 0; i < M; i++) {
          const R av = V::set1(a[i]);
          for (int j = 0; j < NV; j++) acc[s][i][j] = V::fmadd(av, bv[j], acc[s][i][j]);
        }
        a += MR;
        b += NR;
      }
    }
  }
#pragma GCC unroll 2
  for (; p < kc; p++) {
    R bv[NV];
    Load::template load<NV>(b, bv);
    V::prefetch(b + kHalfPrefetchHalves);
    for (int i = 0; i < M; i++) {
      const R av = V::set1(a[i]);
      for (int j = 0; j < NV; j++) acc[0][i][j] = V::fmadd(av, bv[j], acc[0][i][j]);
    }
    a += MR;
    b += NR;
  }
  for (int s = 1; s < KS; s++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) acc[0][i][j] = V::add(acc[0][i][j], acc[s][i][j]);
  gemm_store_f32<V, M, NV>(acc[0], n, c, ldc, flags, bias, act);
}

template <class V, class Load, int MR, int NV, int M>
inline void half_cvt_gemm_dispatch_m(size_t m, size_t n, size_t kc, const float* a, const uint16_t* b, float* c,
                                     size_t ldc, unsigned flags, const float* bias, int act) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return half_cvt_gemm_tile<V, Load, MR, NV, M>(n, kc, a, b, c, ldc, flags, bias, act);
    return half_cvt_gemm_dispatch_m<V, Load, MR, NV, M - 1>(m, n, kc, a, b, c, ldc, flags, bias, act);
  }
}

template <class V, class Load, int MR, int NV>
inline void half_cvt_gemm_ukernel(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c,
                                  size_t ldc, unsigned flags, const float* bias, int act) {
  half_cvt_gemm_dispatch_m<V, Load, MR, NV, MR>(m, n, kc, static_cast<const float*>(a), b, c, ldc, flags, bias, act);
}

// Native fp16. HV: fp16 vector traits (H, HW lanes, AElem = the packed A element (uint16_t, or uint32_t holding
// the half twice), zero, load(const uint16_t*), bcast(const AElem*) (one half to every lane, from memory),
// fmadd(a, b, acc) = a·b + acc rounded once to fp16, and widen(H, R* out) giving HW / V::W f32 vectors).
// A is packed as kc groups of MR AElem; B as kc groups of NVH·HW halves.
template <class HV, class V, int MR, int NVH, int M, int KB>
inline void half_native_gemm_tile(size_t n, size_t kc, const typename HV::AElem* __restrict a, const uint16_t* __restrict b,
                                  float* __restrict c, size_t ldc, unsigned flags, const float* bias, int act) {
  using H = typename HV::H;
  using R = typename V::R;
  constexpr int NR = NVH * HV::HW;
  constexpr int PER = HV::HW / V::W;  // f32 vectors per fp16 vector
  constexpr int NF = NVH * PER;
  R acc[M][NF];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < NF; j++) acc[i][j] = V::zero();
  for (size_t p0 = 0; p0 < kc; p0 += KB) {
    const size_t pend = p0 + KB < kc ? p0 + KB : kc;
    H hacc[M][NVH];
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NVH; j++) hacc[i][j] = HV::zero();
    for (size_t p = p0; p < pend; p++) {
      H bv[NVH];
      for (int j = 0; j < NVH; j++) bv[j] = HV::load(b + j * HV::HW);
      for (int i = 0; i < M; i++) {
        const H av = HV::bcast(a + i);
        for (int j = 0; j < NVH; j++) hacc[i][j] = HV::fmadd(av, bv[j], hacc[i][j]);
      }
      a += MR;
      b += NR;
    }
    // Fold the block's fp16 partial sums into f32: the fp16 rounding error is bounded per block.
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NVH; j++) {
        R w[PER];
        HV::widen(hacc[i][j], w);
        for (int q = 0; q < PER; q++) acc[i][j * PER + q] = V::add(acc[i][j * PER + q], w[q]);
      }
  }
  gemm_store_f32<V, M, NF>(acc, n, c, ldc, flags, bias, act);
}

template <class HV, class V, int MR, int NVH, int M, int KB>
inline void half_native_gemm_dispatch_m(size_t m, size_t n, size_t kc, const typename HV::AElem* a, const uint16_t* b, float* c,
                                        size_t ldc, unsigned flags, const float* bias, int act) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return half_native_gemm_tile<HV, V, MR, NVH, M, KB>(n, kc, a, b, c, ldc, flags, bias, act);
    return half_native_gemm_dispatch_m<HV, V, MR, NVH, M - 1, KB>(m, n, kc, a, b, c, ldc, flags, bias, act);
  }
}

template <class HV, class V, int MR, int NVH, int KB>
inline void half_native_gemm_ukernel(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c,
                                     size_t ldc, unsigned flags, const float* bias, int act) {
  half_native_gemm_dispatch_m<HV, V, MR, NVH, MR, KB>(m, n, kc, static_cast<const typename HV::AElem*>(a), b, c, ldc,
                                                      flags, bias, act);
}

}  // namespace
}  // namespace simdtensor
