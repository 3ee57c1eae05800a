// The kernel table: every op's variant list (best first) and the choice under the current ISA cap.
#pragma once
#include <cstddef>
#include "cpu/features.h"
#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {

// Best f32 GEMM variant allowed by the cap (always non-null: the scalar variant is always compiled).
const F32GemmVariant& f32_gemm_select();
// Variant with this exact name, or null.
const F32GemmVariant* f32_gemm_find(const char* name);

const F32EltwiseVariant& f32_eltwise_select();

// One (op, kernel) row for cpuInfo(): the kernel name each op runs under the current cap.
struct OpKernel {
  const char* op;
  const char* kernel;
};
// Fills up to `cap` rows; returns how many ops exist.
size_t op_kernels(OpKernel* out, size_t cap);

// Families added by later kernels register a name-reporting hook so cpuInfo() lists them too.
using OpKernelReporter = size_t (*)(OpKernel* out, size_t cap);
void register_op_reporter(OpKernelReporter fn);

}  // namespace simdtensor
