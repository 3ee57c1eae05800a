// Small-M half driver (M <= kHalfGemvMaxM): the rows of A read in place (half rows widened to f32 first for the
// convert-then-FMA kernels) while each B panel of the GEMM layout streams past once per kernel.mr rows. Plain C++.
#pragma once
#include <cstddef>
#include "kernels/half-gemm/half-gemm.h"
#include "runtime/half/gemm_driver.h"

namespace simdtensor {

// C = act(A·B + bias) for g (C in f32) with small-M variant v over panels of K padded to kpad (the layout's kpad
// of the GEMM variant that packed them). Threads split the panels (N).
void half_gemv_run(const HalfGemvVariant& v, size_t kpad, const HalfGemmArgs& g);

}  // namespace simdtensor
