// The small-M (M = 1..16) int8 kernel: streams the GEMM's own packed B panels once per MR rows, with the rows of A
// read in place (row-major, K padded to a multiple of 4, bytes already in the kernel's domain: no packing pass).
// At M = 1 the tile has NV accumulators only, one dependent vpdpbusd chain each, so a single set is bound by the
// dot product's latency (4 cycles on Zen 5: 2 zmm chains = 32 B of weights per cycle, below one core's L2 and
// close to its DRAM rate). U independent sets over consecutive k-groups (summed once at the end) lift that to the
// load/read-bandwidth bound; U shrinks as M grows because M·NV chains already cover the latency.
// Written once over the same dot-product traits T as ukernel.h; the epilogue is the GEMM's.
#pragma once
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {

template <class T, int NV, int M, int U>
inline void s8_gemv_tile(size_t n, size_t kpad, const uint8_t* __restrict a, size_t lda, const int8_t* __restrict b,
                         void* c, size_t ldc, const S8GemmEpilogue& ep) {
  using I = typename T::I;
  using A = typename T::A;
  using B = typename T::B;
  constexpr int W = T::W;
  constexpr int NR = NV * W;
  I acc[U][M][NV];
  ST_S8_UNROLL for (int u = 0; u < U; u++)
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[u][i][j] = T::zero();
  size_t p = 0;
  for (; p + 4 * U <= kpad; p += 4 * U) {
    ST_S8_UNROLL for (int u = 0; u < U; u++) {
      B bv[NV];
      ST_S8_UNROLL for (int j = 0; j < NV; j++) bv[j] = T::load_b(b + (u * NR + j * W) * 4);
      ST_S8_UNROLL for (int i = 0; i < M; i++) {
        const A av = T::bcast_a(a + i * lda + p + 4 * u);
        ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[u][i][j] = T::dot4(acc[u][i][j], av, bv[j]);
      }
    }
    b += 4 * NR * U;
  }
  for (; p < kpad; p += 4) {  // the last (kpad/4) % U groups, into the first set
    B bv[NV];
    ST_S8_UNROLL for (int j = 0; j < NV; j++) bv[j] = T::load_b(b + j * W * 4);
    ST_S8_UNROLL for (int i = 0; i < M; i++) {
      const A av = T::bcast_a(a + i * lda + p);
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[0][i][j] = T::dot4(acc[0][i][j], av, bv[j]);
    }
    b += 4 * NR;
  }
  I res[M][NV];
  ST_S8_UNROLL for (int i = 0; i < M; i++)
    ST_S8_UNROLL for (int j = 0; j < NV; j++) {
      I s = acc[0][i][j];
      ST_S8_UNROLL for (int u = 1; u < U; u++) s = T::add(s, acc[u][i][j]);
      res[i][j] = s;
    }
  s8_gemm_epilogue<T, NV, M>(res, n, c, ldc, ep);
}

// CHAINS: the number of independent accumulators the ISA needs in flight (latency × issue rate), bounded by its
// register file.
template <class T, int MR, int NV, int CHAINS, int M>
inline void s8_gemv_dispatch_m(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b,
                               void* c, size_t ldc, const S8GemmEpilogue& ep) {
  if constexpr (M > 0) {
    constexpr int U = CHAINS / (M * NV) > 1 ? CHAINS / (M * NV) : 1;
    if (m == size_t(M)) return s8_gemv_tile<T, NV, M, U>(n, kpad, a, lda, b, c, ldc, ep);
    return s8_gemv_dispatch_m<T, MR, NV, CHAINS, M - 1>(m, n, kpad, a, lda, b, c, ldc, ep);
  }
}

template <class T, int MR, int NV, int CHAINS>
inline void s8_gemv_ukernel(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b, void* c,
                            size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemv_dispatch_m<T, MR, NV, CHAINS, MR>(m, n, kpad, a, lda, b, c, ldc, *ep);
}

}  // namespace
}  // namespace simdtensor

// The two entry points of one ISA file over its dot traits T: the MR-row GEMM microkernel (kernels.inc) and the
// 4-row small-M kernel over the same panels (gemv.inc), NV vectors wide, CHAINS as in s8_gemv_dispatch_m.
#define ST_S8_GEMM_ENTRIES(gemm_name, gemv_name, T, MR, NV, CHAINS)                                              \
  void gemm_name(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c, size_t ldc,        \
                 const S8GemmEpilogue* ep) {                                                                     \
    s8_gemm_ukernel<T, MR, NV>(m, n, kpad, a, b, c, ldc, ep);                                                    \
  }                                                                                                              \
  void gemv_name(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b, void* c,        \
                 size_t ldc, const S8GemmEpilogue* ep) {                                                         \
    s8_gemv_ukernel<T, 4, NV, CHAINS>(m, n, kpad, a, lda, b, c, ldc, ep);                                        \
  }
