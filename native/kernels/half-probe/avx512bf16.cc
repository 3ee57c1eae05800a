// vdpbf16ps throughput probe: 16 independent zmm accumulators, 2 multiply-adds per f32 lane per instruction.
#include "common/x86_intrin.h"

#include "kernels/half-probe/half-probe.h"

namespace simdtensor {

double half_probe_bf16dot__avx512bf16(uint64_t iters, float* sink) {
  __m512 acc[16];
  for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512bh a = __m512bh(_mm512_set1_epi32(0x3f803f80)), b = __m512bh(_mm512_set1_epi32(0x33d633d6));
  for (uint64_t it = 0; it < iters; it++)
    for (int i = 0; i < 16; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 16; i++) s = _mm512_add_ps(s, acc[i]);
  *sink = _mm512_reduce_add_ps(s);
  return double(iters) * 16.0 * 16.0 * 4.0;
}

}  // namespace simdtensor
