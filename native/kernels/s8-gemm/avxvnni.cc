// int8 GEMM microkernel s8_gemm_6x16c4__avxvnni: 6 rows × 2 ymm of int32 accumulators, VEX vpdpbusd (u8·s8).
#include "common/ivec_avx2.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotAvxVnni : S8DotI32<IVecAvx2> {
  static I dot4(I acc, A a, B b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
};
}  // namespace

ST_S8_GEMM_ENTRIES(s8_gemm_6x16c4__avxvnni, s8_gemv_4x16c4__avxvnni, DotAvxVnni, 6, 2, 8)

}  // namespace simdtensor
