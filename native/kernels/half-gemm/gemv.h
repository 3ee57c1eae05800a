// The small-M half kernel (M = 1..MR rows): streams the GEMM's own packed B panels once per MR rows, with the rows
// of A read in place (no packing pass). At M = 1 the tile has NV accumulators only, one dependent chain each, so a
// single set is bound by the FMA / dot-product latency, not by the weights' read bandwidth: U independent sets over
// consecutive K steps (summed once at the end) lift it to the read bound; U shrinks as M grows because M·NV chains
// already cover the latency. Written once over dot traits T (below); the epilogue is the GEMM's.
//
// T: V (the f32 vector traits of the store), AElem (A's element as read in place), A / B (the broadcast A and one
// K step's B vectors), KR (K steps per B step: 1 for convert-then-FMA, 2 for K-pair dot products), load_b<NV>(b, B*)
// (one K step of the panel), bcast(const AElem*) (KR consecutive A values of one row to every lane), dot(acc, A, B);
// with KR = 2 also bcast_last(const AElem*) (the last A value of an odd K, paired with zero: no read past the row).
#pragma once
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {

// Convert-then-FMA dot traits over f32 vector traits V and a B loader of ukernel.h (f32 A rows).
template <class V_, class Load>
struct HalfGemvCvt {
  using V = V_;
  using AElem = float;
  using A = typename V::R;
  using B = typename V::R;
  static constexpr int KR = 1;
  template <int NV>
  static void load_b(const uint16_t* b, B* out) {
    Load::template load<NV>(b, out);
  }
  static A bcast(const float* p) { return V::set1(*p); }
  static typename V::R dot(typename V::R acc, A a, B b) { return V::fmadd(a, b, acc); }
};

template <class T, int NV, int M, int U>
inline void half_gemv_tile(size_t n, size_t k, const typename T::AElem* __restrict a, size_t lda,
                           const uint16_t* __restrict b, float* __restrict c, size_t ldc, const float* bias, int act) {
  using V = typename T::V;
  using R = typename V::R;
  using B = typename T::B;
  constexpr int KR = T::KR;
  constexpr int STEP = KR * NV * V::W;  // halves of B per K step
  R acc[U][M][NV];
  for (int u = 0; u < U; u++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) acc[u][i][j] = V::zero();
  auto step = [&](R(&ac)[M][NV], const uint16_t* bq, size_t p) {
    B bv[NV];
    T::template load_b<NV>(bq, bv);
    for (int i = 0; i < M; i++) {
      const typename T::A av = T::bcast(a + i * lda + p);
      for (int j = 0; j < NV; j++) ac[i][j] = T::dot(ac[i][j], av, bv[j]);
    }
  };
  const size_t steps = k / KR;
  size_t q = 0;
  for (; q + U <= steps; q += U) {
    for (int u = 0; u < U; u++) step(acc[u], b + u * STEP, (q + u) * KR);
    // One prefetch per cache line of the U steps just issued, kHalfPrefetchHalves ahead (the panels are one
    // sequential stream: panel p + 1 follows panel p).
    for (int off = 0; off < U * STEP; off += 32) V::prefetch(b + kHalfPrefetchHalves + off);
    b += U * STEP;
  }
  for (; q < steps; q++, b += STEP) step(acc[0], b, q * KR);
  if constexpr (KR == 2) {
    if (k % 2) {
      B bv[NV];
      T::template load_b<NV>(b, bv);
      for (int i = 0; i < M; i++) {
        const typename T::A av = T::bcast_last(a + i * lda + k - 1);
        for (int j = 0; j < NV; j++) acc[0][i][j] = T::dot(acc[0][i][j], av, bv[j]);
      }
    }
  }
  for (int u = 1; u < U; u++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < NV; j++) acc[0][i][j] = V::add(acc[0][i][j], acc[u][i][j]);
  gemm_store_f32<V, M, NV>(acc[0], n, c, ldc, kGemmEpilogue, bias, act);
}

// CHAINS: the independent accumulators the ISA needs in flight (latency × issue rate), bounded by its registers.
template <class T, int NV, int CHAINS, int M>
inline void half_gemv_dispatch_m(size_t m, size_t n, size_t k, const typename T::AElem* a, size_t lda,
                                 const uint16_t* b, float* c, size_t ldc, const float* bias, int act) {
  if constexpr (M > 0) {
    constexpr int U = CHAINS / (M * NV) > 1 ? CHAINS / (M * NV) : 1;
    if (m == size_t(M)) return half_gemv_tile<T, NV, M, U>(n, k, a, lda, b, c, ldc, bias, act);
    return half_gemv_dispatch_m<T, NV, CHAINS, M - 1>(m, n, k, a, lda, b, c, ldc, bias, act);
  }
}

}  // namespace
}  // namespace simdtensor

// One small-M entry point of an ISA file: MR rows per pass, NV vectors wide, CHAINS as above, dot traits T given
// last (a template-id with commas may be passed as is).
#define ST_HALF_GEMV_ENTRY(name, MR, NV, CHAINS, ...)                                                              \
  void name(size_t m, size_t n, size_t k, const void* a, size_t lda, const uint16_t* b, float* c, size_t ldc,     \
            const float* bias, int act) {                                                                         \
    half_gemv_dispatch_m<__VA_ARGS__, NV, CHAINS, MR>(m, n, k, static_cast<const typename __VA_ARGS__::AElem*>(a), \
                                                      lda, b, c, ldc, bias, act);                                 \
  }

// Both entry points of a convert-then-FMA ISA file: the MR×(NV·W) GEMM microkernel (ukernel.h) and its small-M
// kernel over the same panels, GEMV_MR rows per pass.
#define ST_HALF_CVT_ENTRIES(gemm_name, gemv_name, V, Load, MR, NV, GEMV_MR, CHAINS)                                \
  void gemm_name(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,           \
                 unsigned flags, const float* bias, int act) {                                                    \
    half_cvt_gemm_ukernel<V, Load, MR, NV>(m, n, kc, a, b, c, ldc, flags, bias, act);                             \
  }                                                                                                               \
  ST_HALF_GEMV_ENTRY(gemv_name, GEMV_MR, NV, CHAINS, HalfGemvCvt<V, Load>)
