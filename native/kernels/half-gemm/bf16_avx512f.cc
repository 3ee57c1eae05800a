// bf16 GEMM microkernel bf16_gemm_8x32__avx512f: f32 A × bf16 B, 8 rows × 2 zmm of f32. The panel interleaves
// columns j and 16+j, so one 64-byte load widens into both vectors with a shift and a mask (no shuffles).
#include "common/half_avx512.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

ST_HALF_CVT_ENTRIES(bf16_gemm_8x32__avx512f, bf16_gemv_8x32__avx512f, VecAvx512, LoadBf16Vec<HalfAvx512>, 8, 2, 8, 8)

}  // namespace simdtensor
