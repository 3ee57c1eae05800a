// f32 depthwise conv variant for scalar (VecScalar, 4-pixel register tiles).
#include "common/vec_scalar.h"
#include "kernels/f32-dwconv/dwconv.h"

namespace simdtensor {

const F32DwconvVariant f32_dwconv__scalar = Dwconv<VecScalar, 4>::make("f32_dwconv__scalar", Isa::kScalar);

}  // namespace simdtensor

namespace simdtensor {

size_t f32_dwconv_nchw_scratch(const DwconvShape& s, size_t rows) {
  if (rows == 0) return 0;
  const size_t pw = s.ow + ((s.kw - 1) * s.dw) / s.sw, nr = (rows - 1) * s.sh + (s.kh - 1) * s.dh + 1;
  return s.sw * nr * pw;
}

}  // namespace simdtensor
