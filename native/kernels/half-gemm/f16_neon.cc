// f16 GEMM microkernel f16_gemm_8x12__neon: f32 A × f16 B widened by fcvtl (baseline ARMv8), 8 rows × 3 q of f32.
#include "common/vec_neon.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct LoadF16Neon {
  template <int NV>
  static void load(const uint16_t* b, float32x4_t* out) {
    for (int j = 0; j < NV; j++) out[j] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(b + 4 * j)));
  }
};
}  // namespace

ST_HALF_CVT_ENTRIES(f16_gemm_8x12__neon, f16_gemv_8x12__neon, VecNeon, LoadF16Neon, 8, 3, 8, 12)

}  // namespace simdtensor
