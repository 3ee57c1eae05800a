// Portable int8 GEMM microkernel s8_gemm_4x8c4__scalar (the same template over width-1 traits; u8 activations).
#include "common/ivec_scalar.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotScalar : IVecScalar {
  using A = const uint8_t*;
  using B = const int8_t*;
  static A bcast_a(const uint8_t* p) { return p; }
  static B load_b(const int8_t* p) { return p; }
  static I dot4(I acc, A a, B b) {
    uint32_t s = uint32_t(acc);
    for (int t = 0; t < 4; t++) s += uint32_t(int32_t(a[t]) * int32_t(b[t]));
    return int32_t(s);
  }
};
}  // namespace

void s8_gemm_4x8c4__scalar(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                           size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemm_ukernel<DotScalar, 4, 8>(m, n, kpad, a, b, c, ldc, ep);
}

// The small-M kernel over the same panels (gemv.h).
void s8_gemv_4x8c4__scalar(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b,
                           void* c, size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemv_ukernel<DotScalar, 4, 8, 8>(m, n, kpad, a, lda, b, c, ldc, ep);
}

}  // namespace simdtensor
