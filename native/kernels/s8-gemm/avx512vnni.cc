// int8 GEMM microkernel s8_gemm_12x32c4__avx512vnni: 12 rows × 2 zmm of int32 accumulators, zmm vpdpbusd (u8·s8).
// 24 independent accumulators cover vpdpbusd's 4-cycle latency at two per cycle, and a B panel of 32 columns ×
// K = 1024 (32 KiB) stays in L1 next to the A tile (measured here: 12x32 > 8x48, whose 48 KiB panel spills to L2).
#include "common/ivec_avx512.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotAvx512Vnni : S8DotI32<IVecAvx512> {
  static I dot4(I acc, A a, B b) { return _mm512_dpbusd_epi32(acc, a, b); }
};
}  // namespace

ST_S8_GEMM_ENTRIES(s8_gemm_12x32c4__avx512vnni, s8_gemv_4x32c4__avx512vnni, DotAvx512Vnni, 12, 2, 8)

}  // namespace simdtensor
