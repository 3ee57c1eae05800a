// f32 GEMM microkernel f32_gemm_8x32__avx512f: 8 rows × 2 vectors of VecAvx512 accumulators; its strided-A twin
// f32_gemm_sa_12x32__avx512f takes 12 rows (24 accumulators, fewer B loads and calls per FMA; gemm_driver.cc).
#include "common/vec_avx512.h"
#include "kernels/f32-gemm/ukernel.h"

namespace simdtensor {

ST_F32_GEMM_ENTRIES(f32_gemm_8x32__avx512f, f32_gemm_sa_12x32__avx512f, VecAvx512, 8, 2, 12)

}  // namespace simdtensor
