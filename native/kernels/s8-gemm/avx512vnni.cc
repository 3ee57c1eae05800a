// int8 GEMM microkernel s8_gemm_8x48c4__avx512vnni: 8 rows × 3 zmm of int32 accumulators, zmm vpdpbusd (u8·s8).
// 24 independent accumulators cover vpdpbusd's 4-cycle latency at two per cycle.
#include <cstring>
#include "common/ivec_avx512.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotAvx512Vnni : IVecAvx512 {
  using A = __m512i;
  using B = __m512i;
  static A bcast_a(const uint8_t* p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return _mm512_set1_epi32(x);
  }
  static B load_b(const int8_t* p) { return _mm512_loadu_si512(p); }
  static I dot4(I acc, A a, B b) { return _mm512_dpbusd_epi32(acc, a, b); }
};
}  // namespace

void s8_gemm_8x48c4__avx512vnni(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b, void* c,
                                size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemm_ukernel<DotAvx512Vnni, 8, 3>(m, n, kpad, a, lda, b, c, ldc, ep);
}

}  // namespace simdtensor
