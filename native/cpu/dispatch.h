// The kernel tables' one home: every family's VariantTable is filled in dispatch.cc (see cpu/variant_table.h for
// the pattern), and cpuInfo().kernels is listed there from the same select() calls the ops make.
#pragma once
#include <cstddef>

#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/f32-probe/f32-probe.h"
#include "kernels/f32-resize/f32-resize.h"
#include "kernels/f32-transpose/f32-transpose.h"
#include "kernels/f32-spmm/f32-spmm.h"
#include "kernels/f32-train/f32-train.h"
#include "kernels/half-convert/half-convert.h"
#include "kernels/half-gemm/half-gemm.h"
#include "kernels/half-probe/half-probe.h"
#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "kernels/s8-probe/s8-probe.h"
#include "kernels/s8-spmm/s8-spmm.h"

namespace simdtensor {

// One (op, kernel) row for cpuInfo(): the kernel name each op runs under the current cap.
struct OpKernel {
  const char* op;
  const char* kernel;
};
// Fills up to `cap` rows; returns how many ops exist.
size_t op_kernels(OpKernel* out, size_t cap);
// The kernel `op` (a cpuInfo().kernels key) runs for m rows: for the ops with a small-M kernel the driver's own
// choice at that M, for the others their row. Null for an unknown op.
const char* op_kernel_for_m(const char* op, size_t m);

}  // namespace simdtensor
