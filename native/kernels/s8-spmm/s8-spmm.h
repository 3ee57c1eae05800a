// int8 sparse-weight linear family: pruned-and-quantized weights (s8, one scale per output row, symmetric) times
// activations quantized per row to u8 (asymmetric, as the dense int8 path does). Weights are stored as "groups
// of 4": for each row, the 4-aligned column groups holding a nonzero, with their 4 bytes packed in one int32 —
// the operand shape of VNNI vpdpbusd. CSR, BSR and N:M inputs all become this layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

struct S8SparseView {
  size_t n = 0, k = 0;
  size_t groups = 0;                 // ceil(k / 4)
  const uint32_t* ptr = nullptr;     // n + 1 offsets into gidx / gval
  const void* gidx = nullptr;        // group index (column / 4), u16 when groups <= 65536 (idx16) else u32
  bool idx16 = true;
  const int32_t* gval = nullptr;     // 4 s8 weights per group, byte j = w[r][4g + j] (zero past k)
  const int32_t* rowsum = nullptr;   // Σ_k w[r][k], for the activation zero-point correction
  const float* scale = nullptr;      // per row
  size_t stored_groups() const { return ptr ? ptr[n] : 0; }
};

// Row kernel (small M): acc[i·ldacc + r] = Σ_g dot4(xq[i·ldx + 4g ..], gval) for i < m (<= 4), r in [r0, r1).
// xq rows must be readable up to 4·groups bytes.
using S8SpmmRowFn = void (*)(const S8SparseView& w, size_t r0, size_t r1, const uint8_t* xq, size_t ldx, size_t m,
                             int32_t* acc, size_t ldacc);
// y[i] = act(scale[i]·(sx·acc[i] − szx·rowsum[i]) + bias[i]) for i < n (bias may be null); sx, szx for one
// activation row (szx = sx·zero point).
using S8SpmmRowEpilogueFn = void (*)(float* y, const int32_t* acc, size_t n, float sx, float szx, const float* scale,
                                     const int32_t* rowsum, const float* bias, int act);
// Transposed-activation kernel: xq4t is one M tile as [groups][nv·W lanes] int32 words (4 bytes of one row each);
// outt[(r − r0)·ldt + i] = act(scale[r]·(sx[i]·Σ − szx[i]·rowsum[r]) + bias[r]) for lanes i < nv·W.
using S8SpmmXtFn = void (*)(const S8SparseView& w, size_t r0, size_t r1, const int32_t* xq4t, size_t nv,
                            const float* sx, const float* szx, float* outt, size_t ldt, const float* bias, int act);

struct S8SpmmVariant {
  const char* name;
  Isa isa;
  size_t w;       // int32 lanes per vector in the xt layout
  size_t max_nv;  // vectors of M per xt tile
  S8SpmmRowFn row;
  S8SpmmRowEpilogueFn row_epilogue;
  S8SpmmXtFn xt;
  const char* row_name;
  const char* xt_name;
};

#define ST_S8_SPMM(sym, isa) extern const S8SpmmVariant sym;
#include "kernels/s8-spmm/kernels.inc"
#undef ST_S8_SPMM

// All compiled variants, best first; filled in cpu/dispatch.cc.
extern const VariantTable<S8SpmmVariant> s8_spmm_table;

// Reference: plain loops over the dense int8 weights, int32 sums, then the same dequantization formula.
// xq: m rows of u8 (row stride ldx), sx / zx per row. Tests only.
void s8_spmm_reference(const S8SparseView& w, size_t m, const uint8_t* xq, size_t ldx, const float* sx,
                       const int32_t* zx, float* out, size_t ldo, const float* bias, int act);

}  // namespace simdtensor
