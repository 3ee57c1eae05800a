// Portable half converters: the scalar reference functions of common/half.h in a loop (convert.h's directions).
#include "kernels/half-convert/convert.h"

namespace simdtensor {

ST_HALF_CVT_ENTRIES(scalar, F32ToF16, F16ToF32, F32ToBf16, Bf16ToF32)

}  // namespace simdtensor
