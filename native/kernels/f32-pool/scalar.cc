// f32 pooling variant for scalar (VecScalar) and the shared geometry helpers.
#include "common/vec_scalar.h"
#include "kernels/f32-pool/pool.h"

namespace simdtensor {

const F32PoolVariant f32_pool__scalar = Pool<VecScalar>::make("f32_pool__scalar", Isa::kScalar);

}  // namespace simdtensor

namespace simdtensor {

size_t pool_axis_count(size_t o, size_t s, size_t p, size_t pend, size_t d, size_t k, size_t in, bool include_pad) {
  size_t k0, k1;
  // With the padding counted, the window is clipped to the padded extent instead: shift coordinates by p.
  if (include_pad) window_taps(o, s, 0, d, k, in + p + pend, &k0, &k1);
  else window_taps(o, s, p, d, k, in, &k0, &k1);
  return k1 - k0;
}

size_t f32_pool_nchw_scratch(const PoolShape& s, size_t rows) {
  if (rows == 0) return 0;
  const size_t pw = s.ow + ((s.kw - 1) * s.dw) / s.sw, nr = (rows - 1) * s.sh + (s.kh - 1) * s.dh + 1;
  return s.sw * nr * pw + s.ow;
}

}  // namespace simdtensor
