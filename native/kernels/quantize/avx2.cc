// Quantize / dequantize / min-max over IVecAvx2 (the shared templates in impl.h).
#include "common/ivec_avx2.h"
#include "kernels/quantize/impl.h"

namespace simdtensor {
const QuantizeVariant quantize__avx2 = make_quantize_variant<IVecAvx2>("quantize__avx2", Isa::kAvx2);
}  // namespace simdtensor
