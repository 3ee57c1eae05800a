// AVX512-FP16 vfmadd231ph throughput probe: 16 independent zmm accumulators of 32 fp16 lanes. Compiled here, not
// run here (no AVX512-FP16 on the development machine): selected only when cpuid reports the feature.
#include "common/x86_intrin.h"

#include "kernels/half-probe/half-probe.h"

namespace simdtensor {

double half_probe_fp16fma__avx512fp16(uint64_t iters, float* sink) {
  __m512h acc[16];
  for (int i = 0; i < 16; i++) acc[i] = _mm512_castsi512_ph(_mm512_set1_epi16(short(0x1400 + i)));
  const __m512h b = _mm512_castsi512_ph(_mm512_set1_epi16(short(0x3bff))), c = _mm512_castsi512_ph(_mm512_set1_epi16(short(0x0400)));
  for (uint64_t it = 0; it < iters; it++)
    for (int i = 0; i < 16; i++) acc[i] = _mm512_fmadd_ph(acc[i], b, c);
  __m512 s = _mm512_setzero_ps();
  for (int i = 0; i < 16; i++) s = _mm512_add_ps(s, _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_castph_si512(acc[i]))));
  *sink = _mm512_reduce_add_ps(s);
  return double(iters) * 16.0 * 32.0 * 2.0;
}

}  // namespace simdtensor
