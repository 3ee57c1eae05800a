// SDOT throughput probe: 16 independent q-register accumulators.
#include <arm_neon.h>
#include "kernels/s8-probe/s8-probe.h"

namespace simdtensor {

double s8_probe__neondot(uint64_t iters, int32_t* sink) {
  int8x16_t a = vdupq_n_s8(1), b = vdupq_n_s8(2);
  int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0,
            c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
  for (uint64_t i = 0; i < iters; i++) {
    c0 = vdotq_s32(c0, a, b); c1 = vdotq_s32(c1, a, b); c2 = vdotq_s32(c2, a, b); c3 = vdotq_s32(c3, a, b);
    c4 = vdotq_s32(c4, a, b); c5 = vdotq_s32(c5, a, b); c6 = vdotq_s32(c6, a, b); c7 = vdotq_s32(c7, a, b);
    c8 = vdotq_s32(c8, a, b); c9 = vdotq_s32(c9, a, b); c10 = vdotq_s32(c10, a, b); c11 = vdotq_s32(c11, a, b);
    c12 = vdotq_s32(c12, a, b); c13 = vdotq_s32(c13, a, b); c14 = vdotq_s32(c14, a, b); c15 = vdotq_s32(c15, a, b);
    __asm__ volatile("" : "+w"(a));  // keep the inputs opaque so nothing is hoisted
  }
  const int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)),
                                vaddq_s32(vaddq_s32(vaddq_s32(c4, c5), vaddq_s32(c6, c7)),
                                          vaddq_s32(vaddq_s32(vaddq_s32(c8, c9), vaddq_s32(c10, c11)),
                                                    vaddq_s32(vaddq_s32(c12, c13), vaddq_s32(c14, c15)))));
  *sink = vgetq_lane_s32(s, 0);
  return double(iters) * 16 * 16 * 2;  // 16 instructions × 4 lanes × 4 multiply-adds
}

}  // namespace simdtensor
