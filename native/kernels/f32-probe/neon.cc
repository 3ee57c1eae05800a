// Probe loops for neon.
#include "common/vec_neon.h"
#include "kernels/f32-probe/probe.h"

namespace simdtensor {

const F32ProbeVariant f32_probe__neon = Probe<VecNeon>::make("f32_probe__neon", Isa::kNeon);

}  // namespace simdtensor
