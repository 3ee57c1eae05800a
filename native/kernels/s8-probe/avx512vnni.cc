// zmm vpdpbusd throughput probe: 16 independent accumulators (latency 4-5 cycles × 2-3 per cycle), in asm so
// the compiler can neither fold nor spill them.
#include "kernels/s8-probe/s8-probe.h"

namespace simdtensor {

#define ST_DP(r) "vpdpbusd %%zmm1, %%zmm0, %%zmm" #r "\n\t"
double s8_probe__avx512vnni(uint64_t iters, int32_t* sink) {
  if (iters == 0) return 0.0;
  const uint64_t count = iters;
  int32_t out[16];
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpabsb %%zmm0, %%zmm1\n\t"
      "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
      "vmovdqa64 %%zmm16, %%zmm17\n\t vmovdqa64 %%zmm16, %%zmm18\n\t vmovdqa64 %%zmm16, %%zmm19\n\t"
      "vmovdqa64 %%zmm16, %%zmm20\n\t vmovdqa64 %%zmm16, %%zmm21\n\t vmovdqa64 %%zmm16, %%zmm22\n\t"
      "vmovdqa64 %%zmm16, %%zmm23\n\t vmovdqa64 %%zmm16, %%zmm24\n\t vmovdqa64 %%zmm16, %%zmm25\n\t"
      "vmovdqa64 %%zmm16, %%zmm26\n\t vmovdqa64 %%zmm16, %%zmm27\n\t vmovdqa64 %%zmm16, %%zmm28\n\t"
      "vmovdqa64 %%zmm16, %%zmm29\n\t vmovdqa64 %%zmm16, %%zmm30\n\t vmovdqa64 %%zmm16, %%zmm31\n\t"
      "1:\n\t"
      ST_DP(16) ST_DP(17) ST_DP(18) ST_DP(19) ST_DP(20) ST_DP(21) ST_DP(22) ST_DP(23)
      ST_DP(24) ST_DP(25) ST_DP(26) ST_DP(27) ST_DP(28) ST_DP(29) ST_DP(30) ST_DP(31)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%zmm16, %%zmm31, %%zmm16\n\t"
      "vmovdqu32 %%zmm16, %[out]\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters), [out] "=m"(out)
      :
      : "xmm0", "xmm1", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",
        "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "cc", "memory");
  *sink = out[0];
  return double(count) * 16 * 64 * 2;  // 16 instructions × 16 lanes × 4 multiply-adds
}
#undef ST_DP

}  // namespace simdtensor
