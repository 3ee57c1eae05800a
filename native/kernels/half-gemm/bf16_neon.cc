// bf16 GEMM microkernel bf16_gemm_8x12__neon: f32 A × bf16 B widened by a 16-bit shift, 8 rows × 3 q of f32.
#include "common/vec_neon.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct LoadBf16Neon {
  template <int NV>
  static void load(const uint16_t* b, float32x4_t* out) {
    for (int j = 0; j < NV; j++) out[j] = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(b + 4 * j), 16));
  }
};
}  // namespace

ST_HALF_CVT_ENTRIES(bf16_gemm_8x12__neon, bf16_gemv_8x12__neon, VecNeon, LoadBf16Neon, 8, 3, 8, 12)

}  // namespace simdtensor
