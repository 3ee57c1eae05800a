// Plain element-by-element transpose: the reference every variant is tested against.
#include "kernels/f32-transpose/f32-transpose.h"

namespace simdtensor {

namespace {
void ref_transpose(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) {
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++) y[j * ldy + i] = x[i * ldx + j];
}
}  // namespace

const F32TransposeVariant f32_transpose_reference{"f32_transpose_reference", Isa::kScalar, &ref_transpose};

}  // namespace simdtensor
