// Small-M int8 driver (M <= kS8GemvMaxM): the rows of A in the kernel's domain, read in place by the small-M kernel
// while each B panel of the GEMM layout streams past once per kernel.mr rows. Plain C++ (no N-API).
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/int8/gemm_driver.h"

namespace simdtensor {

// A ready for the kernel: g.m rows of kpad = s8_gemv_kpad(GEMM variant, g.k) bytes at stride lda (the kpad of the
// bound B panels), in the kernel's byte domain, zero past K; za = ZA' per row (za + oa), rs = row sums of those bytes (read only when g.zb), sa = row scales (f32 and
// requantized outputs). Everything else (B panels for the GEMM variant with the kernel's nr, epilogue, output) from g.
struct S8GemvRows {
  const uint8_t* a;
  size_t lda;
  const int32_t* za;
  const int32_t* rs;
  const float* sa;
  size_t kpad;
};
// The padded K of the panels GEMM variant v binds (s8_gemm_bind_weights): the small-M kernel walks them whole, so A's
// rows are zero-padded to the same length.
inline size_t s8_gemv_kpad(const S8GemmVariant& v, size_t k) { return s8_round_up(k, v.kstep); }
// Row stride for rows of kpad bytes: a cache line more than a multiple of 4 KiB, so the MR rows a kernel broadcasts
// from do not all fall in one L1 set (at K = 4096 the rows would alias every 4 KiB).
inline size_t s8_gemv_row_stride(size_t kpad) { return (kpad + 63) / 64 * 64 + (kpad % 4096 < 64 ? 64 : 0); }

void s8_gemv_run(const S8GemvVariant& v, const S8GemmArgs& g, const S8GemvRows& rows);

// The small-M kernel s8_gemm_run / s8_linear_dynamic_run take for m rows with GEMM variant v, or null (the tiles):
// the one place that rule lives.
inline const S8GemvVariant* s8_gemv_for_m(const S8GemmVariant& v, size_t m) {
  return m <= s8_gemv_max_m() ? s8_gemv_for(v) : nullptr;
}
// The kernel s8_gemm_run / s8_linear_dynamic_run run for m rows with GEMM variant v (what ops report).
inline const char* s8_kernel_for_m(const S8GemmVariant& v, size_t m) {
  const S8GemvVariant* sv = s8_gemv_for_m(v, m);
  return sv ? sv->name : v.name;
}

// s8_gemm_run's path for g.m <= kS8GemvMaxM: copies the few rows into a thread-local buffer in the kernel's domain
// (the only pass over A) and runs s8_gemv_run.
void s8_gemv_gemm_run(const S8GemvVariant& v, const S8GemmVariant& gv, const S8GemmArgs& g);

}  // namespace simdtensor
