// ymm (VEX) vpdpbusd throughput probe: 14 independent accumulators, in asm.
#include "kernels/s8-probe/s8-probe.h"

namespace simdtensor {

#define ST_DP(r) "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm" #r "\n\t"
double s8_probe__avxvnni(uint64_t iters, int32_t* sink) {
  if (iters == 0) return 0.0;
  const uint64_t count = iters;
  int32_t out[8];
  __asm__ volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
      "vpabsb %%ymm0, %%ymm1\n\t"
      "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"
      "vmovdqa %%ymm2, %%ymm3\n\t vmovdqa %%ymm2, %%ymm4\n\t vmovdqa %%ymm2, %%ymm5\n\t vmovdqa %%ymm2, %%ymm6\n\t"
      "vmovdqa %%ymm2, %%ymm7\n\t vmovdqa %%ymm2, %%ymm8\n\t vmovdqa %%ymm2, %%ymm9\n\t vmovdqa %%ymm2, %%ymm10\n\t"
      "vmovdqa %%ymm2, %%ymm11\n\t vmovdqa %%ymm2, %%ymm12\n\t vmovdqa %%ymm2, %%ymm13\n\t vmovdqa %%ymm2, %%ymm14\n\t"
      "vmovdqa %%ymm2, %%ymm15\n\t"
      "1:\n\t"
      ST_DP(2) ST_DP(3) ST_DP(4) ST_DP(5) ST_DP(6) ST_DP(7) ST_DP(8) ST_DP(9)
      ST_DP(10) ST_DP(11) ST_DP(12) ST_DP(13) ST_DP(14) ST_DP(15)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm2, %%ymm15, %%ymm2\n\t"
      "vmovdqu %%ymm2, %[out]\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters), [out] "=m"(out)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15", "cc", "memory");
  *sink = out[0];
  return double(count) * 14 * 32 * 2;  // 14 instructions × 8 lanes × 4 multiply-adds
}
#undef ST_DP

}  // namespace simdtensor
