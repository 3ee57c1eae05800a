// f16 GEMM microkernel f16_gemm_4x64__avx512fp16: vfmadd231ph on 32 fp16 lanes, 4 rows × 2 zmm of fp16 partial
// sums folded every 32 K steps into 4 rows × 4 zmm of f32 (24 of the 32 zmm registers; A is packed as
// duplicated halves and broadcast by vpbroadcastd from memory, keeping the shuffle port free for FMAs). UNTESTED: the development machine has no AVX512-FP16; the shared template half_native_gemm_ukernel is
// exercised by the NEON fp16 kernel under qemu and by a software-fp16 instance in the native tests, and this file
// only supplies the five lane operations below. Selected only when cpuid reports AVX512-FP16.
#include "common/x86_intrin.h"

#include "common/vec_avx512.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct HalfAvx512Fp16 {
  using H = __m512h;
  static constexpr int HW = 32;
  static H zero() { return _mm512_setzero_ph(); }
  static H load(const uint16_t* p) { return _mm512_castsi512_ph(_mm512_loadu_si512(p)); }
  using AElem = uint32_t;  // the half twice: vpbroadcastd from memory is a plain load, vpbroadcastw is not
  static H bcast(const uint32_t* p) { return _mm512_castsi512_ph(_mm512_set1_epi32(int(*p))); }
  static H fmadd(H a, H b, H acc) { return _mm512_fmadd_ph(a, b, acc); }
  static void widen(H h, __m512* out) {
    const __m512i x = _mm512_castph_si512(h);
    out[0] = _mm512_cvtph_ps(_mm512_castsi512_si256(x));
    out[1] = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(x, 1));
  }
};
}  // namespace

void f16_gemm_4x64__avx512fp16(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                               unsigned flags, const float* bias, int act) {
  half_native_gemm_ukernel<HalfAvx512Fp16, VecAvx512, 4, 2, 32>(m, n, kc, a, b, c, ldc, flags, bias, act);
}

}  // namespace simdtensor
