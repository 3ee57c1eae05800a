// int8 GEMM microkernel s8_gemm_8x8c8__neoni8mm: USMMLA (u8 × s8; one instruction multiplies a 2×8 block of A by
// an 8×2 block of B into a 2×2 int32 block, twice SDOT's work). 4 row pairs × 4 column pairs of accumulators; K in
// groups of 8 (A rows and B columns packed 8 bytes at a time). The 2×2 blocks are turned into row vectors for the
// shared epilogue. u8 activations are read as they are (no sign flip, unlike SDOT).
#include <arm_neon.h>

#include "common/ivec_neon.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {

struct EpiNeon : IVecNeon {};

template <int M>
void s8_gemm_i8mm_tile(size_t n, size_t kpad, const uint8_t* __restrict a, const int8_t* __restrict b, void* c,
                       size_t ldc, const S8GemmEpilogue& ep) {
  constexpr int kMR = 8, kNR = 8, RP = (M + 1) / 2;  // row pairs (an odd M's last pair has a zero row)
  int32x4_t acc[RP][4];
  ST_S8_UNROLL for (int q = 0; q < RP; q++)
    ST_S8_UNROLL for (int p = 0; p < 4; p++) acc[q][p] = ep.acc_in ? vld1q_s32(ep.acc_in + 4 * (4 * q + p)) : vdupq_n_s32(0);
  for (size_t k = 0; k < kpad; k += 8) {
    int8x16_t bv[4];
    ST_S8_UNROLL for (int p = 0; p < 4; p++) bv[p] = vld1q_s8(b + 16 * p);
    ST_S8_UNROLL for (int q = 0; q < RP; q++) {
      const uint8x16_t av = vld1q_u8(a + 16 * q);
      ST_S8_UNROLL for (int p = 0; p < 4; p++) acc[q][p] = vusmmlaq_s32(acc[q][p], av, bv[p]);
    }
    a += kMR * 8;
    b += kNR * 8;
  }
  if (ep.out == kS8OutAcc) {  // a K block before the last: the 2×2 blocks as they are
    int32_t* t = static_cast<int32_t*>(c);
    ST_S8_UNROLL for (int q = 0; q < RP; q++)
      ST_S8_UNROLL for (int p = 0; p < 4; p++) vst1q_s32(t + 4 * (4 * q + p), acc[q][p]);
    return;
  }
  // acc[q][p] = [r0·c0, r0·c1, r1·c0, r1·c1] for rows 2q, 2q+1 and columns 2p, 2p+1.
  int32x4_t res[M][2];
  ST_S8_UNROLL for (int q = 0; q < RP; q++)
    ST_S8_UNROLL for (int h = 0; h < 2; h++) {
      const int64x2_t x = vreinterpretq_s64_s32(acc[q][2 * h]), y = vreinterpretq_s64_s32(acc[q][2 * h + 1]);
      res[2 * q][h] = vreinterpretq_s32_s64(vzip1q_s64(x, y));
      if (2 * q + 1 < M) res[2 * q + 1][h] = vreinterpretq_s32_s64(vzip2q_s64(x, y));
    }
  s8_gemm_epilogue<EpiNeon, 2, M>(res, n, c, ldc, ep);
}

template <int M>
void s8_gemm_i8mm_dispatch(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c, size_t ldc,
                           const S8GemmEpilogue& ep) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return s8_gemm_i8mm_tile<M>(n, kpad, a, b, c, ldc, ep);
    return s8_gemm_i8mm_dispatch<M - 1>(m, n, kpad, a, b, c, ldc, ep);
  }
}

}  // namespace

void s8_gemm_8x8c8__neoni8mm(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c, size_t ldc,
                             const S8GemmEpilogue* ep) {
  s8_gemm_i8mm_dispatch<8>(m, n, kpad, a, b, c, ldc, *ep);
}

}  // namespace simdtensor
