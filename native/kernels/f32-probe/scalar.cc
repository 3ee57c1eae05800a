// Probe loops for scalar.
#include "common/vec_scalar.h"
#include "kernels/f32-probe/probe.h"

namespace simdtensor {

const F32ProbeVariant f32_probe__scalar = Probe<VecScalar>::make("f32_probe__scalar", Isa::kScalar);

}  // namespace simdtensor
