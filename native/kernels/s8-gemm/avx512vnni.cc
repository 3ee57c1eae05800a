// int8 GEMM microkernel s8_gemm_12x32c4__avx512vnni: 12 rows × 2 zmm of int32 accumulators, zmm vpdpbusd (u8·s8).
// 24 independent accumulators cover vpdpbusd's 4-cycle latency at two per cycle, and a B panel of 32 columns ×
// K = 1024 (32 KiB) stays in L1 next to the A tile (measured here: 12x32 > 8x48, whose 48 KiB panel spills to L2).
#include <cstring>
#include "common/ivec_avx512.h"
#include "kernels/s8-gemm/gemv.h"
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

void s8_gemm_12x32c4__avx512vnni(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                                 size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemm_ukernel<DotAvx512Vnni, 12, 2>(m, n, kpad, a, b, c, ldc, ep);
}

// The small-M kernel over the same panels (gemv.h).
void s8_gemv_4x32c4__avx512vnni(size_t m, size_t n, size_t kpad, const uint8_t* a, size_t lda, const int8_t* b,
                                void* c, size_t ldc, const S8GemmEpilogue* ep) {
  s8_gemv_ukernel<DotAvx512Vnni, 4, 2, 8>(m, n, kpad, a, lda, b, c, ldc, ep);
}

}  // namespace simdtensor
