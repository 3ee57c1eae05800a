// int8 GEMM microkernel s8_gemm_4x16c4__neondot: 4 rows × 4 q-registers, SDOT (s8·s8; u8 activations are
// shifted to s8 while packing and corrected with the column sums).
#include "common/ivec_neon.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotNeon : IVecNeon {
  using A = int8x16_t;
  using B = int8x16_t;
  static A bcast_a(const uint8_t* p) { return vreinterpretq_s8_s32(vdupq_n_s32(s8_load_group(p))); }
  static B load_b(const int8_t* p) { return vld1q_s8(p); }
  static I dot4(I acc, A a, B b) { return vdotq_s32(acc, b, a); }
};
}  // namespace

ST_S8_GEMM_ENTRIES(s8_gemm_4x16c4__neondot, s8_gemv_4x16c4__neondot, DotNeon, 4, 4, 8)

}  // namespace simdtensor
