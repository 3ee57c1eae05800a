// f32 pooling variant for avx2 (VecAvx2).
#include "common/vec_avx2.h"
#include "kernels/f32-pool/pool.h"

namespace simdtensor {

const F32PoolVariant f32_pool__avx2 = Pool<VecAvx2>::make("f32_pool__avx2", Isa::kAvx2);

}  // namespace simdtensor
