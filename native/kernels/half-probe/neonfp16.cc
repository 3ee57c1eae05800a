// NEON fp16 fmla throughput probe: 16 independent q accumulators of 8 fp16 lanes.
#include <arm_neon.h>

#include "kernels/half-probe/half-probe.h"

namespace simdtensor {

double half_probe_fp16fma__neonfp16(uint64_t iters, float* sink) {
  float16x8_t acc[16];
  for (int i = 0; i < 16; i++) acc[i] = vreinterpretq_f16_u16(vdupq_n_u16(uint16_t(0x1400 + i)));
  const float16x8_t b = vreinterpretq_f16_u16(vdupq_n_u16(0x3bff)), c = vreinterpretq_f16_u16(vdupq_n_u16(0x0400));
  for (uint64_t it = 0; it < iters; it++)
    for (int i = 0; i < 16; i++) acc[i] = vfmaq_f16(acc[i], b, c);
  float32x4_t s = vdupq_n_f32(0.0f);
  for (int i = 0; i < 16; i++) s = vaddq_f32(s, vcvt_f32_f16(vget_low_f16(acc[i])));
  *sink = vaddvq_f32(s);
  return double(iters) * 16.0 * 8.0 * 2.0;
}

}  // namespace simdtensor
