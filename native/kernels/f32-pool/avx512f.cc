// f32 pooling variant for avx512f (VecAvx512).
#include "common/vec_avx512.h"
#include "kernels/f32-pool/pool.h"

namespace simdtensor {

const F32PoolVariant f32_pool__avx512f = Pool<VecAvx512>::make("f32_pool__avx512f", Isa::kAvx512);

}  // namespace simdtensor
