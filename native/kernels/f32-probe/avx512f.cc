// Probe loops for avx512f.
#include "common/vec_avx512.h"
#include "kernels/f32-probe/probe.h"

namespace simdtensor {

const F32ProbeVariant f32_probe__avx512f = Probe<VecAvx512>::make("f32_probe__avx512f", Isa::kAvx512);

}  // namespace simdtensor
