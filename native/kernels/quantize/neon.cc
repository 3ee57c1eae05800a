// Quantize / dequantize / min-max over IVecNeon (the shared templates in impl.h).
#include "common/ivec_neon.h"
#include "kernels/quantize/impl.h"

namespace simdtensor {
const QuantizeVariant quantize__neon = make_quantize_variant<IVecNeon>("quantize__neon", Isa::kNeon);
}  // namespace simdtensor
