// bf16 GEMM microkernel bf16_gemm_6x16__avx2: f32 A × bf16 B, 6 rows × 2 ymm of f32; columns j and 8+j are
// interleaved in the panel so one 32-byte load widens into both vectors with a shift and a mask.
#include "common/half_avx2.h"
#include "kernels/half-gemm/gemv.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {

ST_HALF_CVT_ENTRIES(bf16_gemm_6x16__avx2, bf16_gemv_6x16__avx2, VecAvx2, LoadBf16Vec<HalfAvx2>, 6, 2, 6, 8)

}  // namespace simdtensor
