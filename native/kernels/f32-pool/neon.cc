// f32 pooling variant for neon (VecNeon).
#include "common/vec_neon.h"
#include "kernels/f32-pool/pool.h"

namespace simdtensor {

const F32PoolVariant f32_pool__neon = Pool<VecNeon>::make("f32_pool__neon", Isa::kNeon);

}  // namespace simdtensor
