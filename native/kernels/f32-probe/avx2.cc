// Probe loops for avx2.
#include "common/vec_avx2.h"
#include "kernels/f32-probe/probe.h"

namespace simdtensor {

const F32ProbeVariant f32_probe__avx2 = Probe<VecAvx2, 12>::make("f32_probe__avx2", Isa::kAvx2);

}  // namespace simdtensor
