// Quantize / dequantize / min-max over IVecScalar (the shared templates in impl.h).
#include "common/ivec_scalar.h"
#include "kernels/quantize/impl.h"

namespace simdtensor {
const QuantizeVariant quantize__scalar = make_quantize_variant<IVecScalar>("quantize__scalar", Isa::kScalar);
}  // namespace simdtensor
