// int8 GEMM microkernel s8_gemm_4x16c4__neondot: 4 rows × 4 q-registers, SDOT (s8·s8; u8 activations are
// shifted to s8 while packing and corrected with the column sums).
#include <cstring>
#include "common/ivec_neon.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotNeon : IVecNeon {
  using A = int8x16_t;
  using B = int8x16_t;
  static A bcast_a(const uint8_t* p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return vreinterpretq_s8_s32(vdupq_n_s32(x));
  }
  static B load_b(const int8_t* p) { return vld1q_s8(p); }
  static I dot4(I acc, A a, B b) { return vdotq_s32(acc, b, a); }
};
}  // namespace

void s8_gemm_4x16c4__neondot(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                             size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemm_ukernel<DotNeon, 4, 4>(m, n, kpad, a, b, c, ldc, ep);
}

// The small-M kernel over the same panels (gemv.h).
void s8_gemv_4x16c4__neondot(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b,
                             void* c, size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemv_ukernel<DotNeon, 4, 4, 8>(m, n, kpad, a, lda, b, c, ldc, ep);
}

}  // namespace simdtensor
