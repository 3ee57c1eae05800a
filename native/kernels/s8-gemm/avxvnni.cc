// int8 GEMM microkernel s8_gemm_6x16c4__avxvnni: 6 rows × 2 ymm of int32 accumulators, VEX vpdpbusd (u8·s8).
#include <cstring>
#include "common/ivec_avx2.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotAvxVnni : IVecAvx2 {
  using A = __m256i;
  using B = __m256i;
  static A bcast_a(const uint8_t* p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
  }
  static B load_b(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I dot4(I acc, A a, B b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
};
}  // namespace

void s8_gemm_6x16c4__avxvnni(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                             size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemm_ukernel<DotAvxVnni, 6, 2>(m, n, kpad, a, b, c, ldc, ep);
}

// The small-M kernel over the same panels (gemv.h).
void s8_gemv_4x16c4__avxvnni(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b,
                             void* c, size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemv_ukernel<DotAvxVnni, 4, 2, 8>(m, n, kpad, a, lda, b, c, ldc, ep);
}

}  // namespace simdtensor
