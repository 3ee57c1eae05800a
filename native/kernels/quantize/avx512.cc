// Quantize / dequantize / min-max over IVecAvx512 (the shared templates in impl.h).
#include "common/ivec_avx512.h"
#include "kernels/quantize/impl.h"

namespace simdtensor {
const QuantizeVariant quantize__avx512 = make_quantize_variant<IVecAvx512>("quantize__avx512", Isa::kAvx512);
}  // namespace simdtensor
