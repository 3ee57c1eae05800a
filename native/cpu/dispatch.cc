// Every kernel family's variant table, filled from its kernels.inc (best first), and the cpuInfo().kernels rows.
// Selection is `table.select()` per call: the cap is an atomic int read per call (one relaxed load), so
// setMaxIsa() takes effect immediately.
//
// A new family registers here in two steps (nothing else: no select/find/report code of its own):
//   1. Table: a null-terminated pointer list from its kernels.inc, then the VariantTable its header declares.
//      Families whose kernels.inc names whole variant objects (`extern const FooVariant sym;`) list `&sym`;
//      families whose kernels.inc line carries the fields first build one row object per line (see f32-gemm).
//   2. cpuInfo: its rows in kOpRows below, each `{"op.key", [] { return foo_table.select().name; }}`.
#include "cpu/dispatch.h"

#include <cstring>

#include "runtime/half/gemm_driver.h"
#include "runtime/int8/gemv_driver.h"

namespace simdtensor {

// ---- families whose kernels.inc names whole variant objects ----
namespace {
const F32EltwiseVariant* const kF32Eltwise[] = {
#define ST_F32_ELTWISE(sym, isa) &sym,
#include "kernels/f32-eltwise/kernels.inc"
#undef ST_F32_ELTWISE
    nullptr};
const F32TrainVariant* const kF32Train[] = {
#define ST_F32_TRAIN(sym, isa) &sym,
#include "kernels/f32-train/kernels.inc"
#undef ST_F32_TRAIN
    nullptr};
const F32SpmmVariant* const kF32Spmm[] = {
#define ST_F32_SPMM(sym, isa) &sym,
#include "kernels/f32-spmm/kernels.inc"
#undef ST_F32_SPMM
    nullptr};
const S8SpmmVariant* const kS8Spmm[] = {
#define ST_S8_SPMM(sym, isa) &sym,
#include "kernels/s8-spmm/kernels.inc"
#undef ST_S8_SPMM
    nullptr};
const QuantizeVariant* const kQuantize[] = {
#define ST_QUANTIZE(sym, isa) &sym,
#include "kernels/quantize/kernels.inc"
#undef ST_QUANTIZE
    nullptr};
const F32ConvVariant* const kF32Conv[] = {
#define ST_F32_CONV(sym, isa, mr, nr) &sym,
#define ST_F32_CONV_NARROW(sym, isa, mr, nr)
#include "kernels/f32-conv/kernels.inc"
#undef ST_F32_CONV
#undef ST_F32_CONV_NARROW
    nullptr};
const F32ConvVariant* const kF32ConvNarrow[] = {
#define ST_F32_CONV(sym, isa, mr, nr)
#define ST_F32_CONV_NARROW(sym, isa, mr, nr) &sym,
#include "kernels/f32-conv/kernels.inc"
#undef ST_F32_CONV
#undef ST_F32_CONV_NARROW
#define ST_F32_CONV(sym, isa, mr, nr) &sym,
#define ST_F32_CONV_NARROW(sym, isa, mr, nr)
#include "kernels/f32-conv/kernels.inc"
#undef ST_F32_CONV
#undef ST_F32_CONV_NARROW
    nullptr};
const F32DwconvVariant* const kF32Dwconv[] = {
#define ST_F32_DWCONV(sym, isa) &sym,
#include "kernels/f32-dwconv/kernels.inc"
#undef ST_F32_DWCONV
    nullptr};
const F32PoolVariant* const kF32Pool[] = {
#define ST_F32_POOL(sym, isa) &sym,
#include "kernels/f32-pool/kernels.inc"
#undef ST_F32_POOL
    nullptr};
const F32ResizeVariant* const kF32Resize[] = {
#define ST_F32_RESIZE(sym, isa) &sym,
#include "kernels/f32-resize/kernels.inc"
#undef ST_F32_RESIZE
    nullptr};
const F32TransposeVariant* const kF32Transpose[] = {
#define ST_F32_TRANSPOSE(sym, isa) &sym,
#include "kernels/f32-transpose/kernels.inc"
#undef ST_F32_TRANSPOSE
    nullptr};
const F32ProbeVariant* const kF32Probe[] = {
#define ST_F32_PROBE(sym, isa) &sym,
#include "kernels/f32-probe/kernels.inc"
#undef ST_F32_PROBE
    nullptr};
}  // namespace

const VariantTable<F32EltwiseVariant> f32_eltwise_table{kF32Eltwise};
const VariantTable<F32TrainVariant> f32_train_table{kF32Train};
const VariantTable<F32SpmmVariant> f32_spmm_table{kF32Spmm};
const VariantTable<S8SpmmVariant> s8_spmm_table{kS8Spmm};
const VariantTable<QuantizeVariant> quantize_table{kQuantize};
const VariantTable<F32ProbeVariant> f32_probe_table{kF32Probe};
const VariantTable<F32ConvVariant> f32_conv_table{kF32Conv};
const VariantTable<F32ConvVariant> f32_conv_narrow_table{kF32ConvNarrow};
const VariantTable<F32DwconvVariant> f32_dwconv_table{kF32Dwconv};
const VariantTable<F32PoolVariant> f32_pool_table{kF32Pool};
const VariantTable<F32ResizeVariant> f32_resize_table{kF32Resize};
const VariantTable<F32TransposeVariant> f32_transpose_table{kF32Transpose};

// ---- families whose kernels.inc line carries the fields: one row object per line, then the list ----
namespace {
#define ST_F32_GEMM(sym, sa_sym, isa, mr, nr, mr_sa) \
  const F32GemmVariant sym##_row{#sym, Isa::isa, mr, nr, &sym, &sa_sym, mr_sa};
#include "kernels/f32-gemm/kernels.inc"
#undef ST_F32_GEMM
const F32GemmVariant* const kF32Gemm[] = {
#define ST_F32_GEMM(sym, ...) &sym##_row,
#include "kernels/f32-gemm/kernels.inc"
#undef ST_F32_GEMM
    nullptr};

#define ST_S8_GEMM(sym, isa, mr, nr, kgroup, kstep, a_signed, layout, begin, end) \
  const S8GemmVariant sym##_row{#sym, Isa::isa, mr, nr, kgroup, kstep, a_signed, layout, &sym, begin, end};
#include "kernels/s8-gemm/kernels.inc"
#undef ST_S8_GEMM
const S8GemmVariant* const kS8Gemm[] = {
#define ST_S8_GEMM(sym, ...) &sym##_row,
#include "kernels/s8-gemm/kernels.inc"
#undef ST_S8_GEMM
    nullptr};

#define ST_S8_GEMV(sym, isa, mr, nr, a_signed) const S8GemvVariant sym##_row{#sym, Isa::isa, mr, nr, a_signed, &sym};
#include "kernels/s8-gemm/gemv.inc"
#undef ST_S8_GEMV
const S8GemvVariant* const kS8Gemv[] = {
#define ST_S8_GEMV(sym, ...) &sym##_row,
#include "kernels/s8-gemm/gemv.inc"
#undef ST_S8_GEMV
    nullptr};

#define ST_HALF_GEMM(sym, isa, type, mr, nr, kr, ilv, kpad, apack, kblock) \
  const HalfGemmVariant sym##_row{#sym, Isa::isa, ElemType::type, mr, {nr, kr, ilv, kpad}, HalfAPack::apack, kblock, &sym};
#include "kernels/half-gemm/kernels.inc"
#undef ST_HALF_GEMM
const HalfGemmVariant* const kHalfGemm[] = {
#define ST_HALF_GEMM(sym, ...) &sym##_row,
#include "kernels/half-gemm/kernels.inc"
#undef ST_HALF_GEMM
    nullptr};

#define ST_HALF_GEMV(sym, isa, type, mr, nr, kr, ilv, atype) \
  const HalfGemvVariant sym##_row{#sym, Isa::isa, ElemType::type, mr, nr, kr, ilv, ElemType::atype, &sym};
#include "kernels/half-gemm/gemv.inc"
#undef ST_HALF_GEMV
const HalfGemvVariant* const kHalfGemv[] = {
#define ST_HALF_GEMV(sym, ...) &sym##_row,
#include "kernels/half-gemm/gemv.inc"
#undef ST_HALF_GEMV
    nullptr};

#define ST_HALF_CVT(sym, isa, kind) const HalfCvtVariant sym##_row{#sym, Isa::isa, HalfCvtKind::kind, &sym};
#include "kernels/half-convert/kernels.inc"
#undef ST_HALF_CVT
const HalfCvtVariant* const kHalfCvt[] = {
#define ST_HALF_CVT(sym, ...) &sym##_row,
#include "kernels/half-convert/kernels.inc"
#undef ST_HALF_CVT
    nullptr};

#define ST_S8_PROBE(sym, isa, amx) const S8ProbeVariant sym##_row{#sym, Isa::isa, amx, &sym};
#include "kernels/s8-probe/kernels.inc"
#undef ST_S8_PROBE
const S8ProbeVariant* const kS8Probe[] = {
#define ST_S8_PROBE(sym, ...) &sym##_row,
#include "kernels/s8-probe/kernels.inc"
#undef ST_S8_PROBE
    nullptr};

#define ST_HALF_PROBE(sym, isa, kind) const HalfProbeVariant sym##_row{#sym, Isa::isa, HalfProbeKind::kind, &sym};
#include "kernels/half-probe/kernels.inc"
#undef ST_HALF_PROBE
const HalfProbeVariant* const kHalfProbe[] = {
#define ST_HALF_PROBE(sym, ...) &sym##_row,
#include "kernels/half-probe/kernels.inc"
#undef ST_HALF_PROBE
    nullptr};
}  // namespace

const VariantTable<F32GemmVariant> f32_gemm_table{kF32Gemm};
const VariantTable<S8GemmVariant> s8_gemm_table{kS8Gemm};
const VariantTable<S8GemvVariant> s8_gemv_table{kS8Gemv};
const VariantTable<HalfGemmVariant> half_gemm_table{kHalfGemm};
const VariantTable<HalfGemvVariant> half_gemv_table{kHalfGemv};
const VariantTable<HalfCvtVariant> half_cvt_table{kHalfCvt};
const VariantTable<S8ProbeVariant> s8_probe_table{kS8Probe};
const VariantTable<HalfProbeVariant> half_probe_table{kHalfProbe};

// ---- cpuInfo().kernels, in this order ----
namespace {
struct OpRow {
  const char* op;
  const char* (*kernel)();
  // For ops whose kernel depends on M (a small-M kernel below some row count): the name for m rows, from the same
  // function the driver reports with; null elsewhere.
  const char* (*kernel_m)(size_t m) = nullptr;
};
const char* eltwise() { return f32_eltwise_table.select().name; }
const char* train() { return f32_train_table.select().name; }
const char* half_matmul(ElemType b, ElemType a) { return half_gemm_select(b, a, true).name; }
const char* half_cvt(HalfCvtKind kind) { return half_cvt_select(kind).name; }
// The half driver's own choice for m rows (half_kernel_for_m: the small-M kernel up to half_gemv_max_m_for(v), one
// row on AMX panels, else the tiles).
template <ElemType B, ElemType A>
const char* half_for_m(size_t m) {
  return half_kernel_for_m(half_gemm_select(B, A, true), A, m);
}
// The int8 driver's own choice for m rows (s8_kernel_for_m).
const char* s8_for_m(size_t m) { return s8_kernel_for_m(s8_gemm_table.select(), m); }
// The `.smallM` rows: what runs at M = 1 (cpuInfo().kernelForM(op, m) answers for any M).
template <const char* (*F)(size_t)>
const char* at_one_row() {
  return F(1);
}

const OpRow kOpRows[] = {
    {"matmul.f32", [] { return f32_gemm_table.select().name; }},
    {"add", eltwise},
    {"mul", eltwise},
    {"relu", eltwise},
    {"gelu", eltwise},
    {"softmax", eltwise},
    {"logSoftmax", eltwise},
    {"layerNorm", eltwise},
    {"train.reluBackward", train},
    {"train.geluBackward", train},
    {"train.softmaxXent", train},
    {"train.layerNormBackward", train},
    {"train.sgd", train},
    {"train.adamw", train},
    {"train.dropout", train},
    {"train.transpose", train},
    {"train.argmax", train},
    {"matmul.f16", [] { return half_matmul(ElemType::kF16, ElemType::kF16); }, half_for_m<ElemType::kF16, ElemType::kF16>},
    {"matmul.bf16", [] { return half_matmul(ElemType::kBf16, ElemType::kBf16); }, half_for_m<ElemType::kBf16, ElemType::kBf16>},
    {"linear.f16w", [] { return half_matmul(ElemType::kF16, ElemType::kF32); }, half_for_m<ElemType::kF16, ElemType::kF32>},
    {"linear.bf16w", [] { return half_matmul(ElemType::kBf16, ElemType::kF32); }, half_for_m<ElemType::kBf16, ElemType::kF32>},
    {"matmul.f16.smallM", at_one_row<half_for_m<ElemType::kF16, ElemType::kF16>>},
    {"matmul.bf16.smallM", at_one_row<half_for_m<ElemType::kBf16, ElemType::kBf16>>},
    {"linear.f16w.smallM", at_one_row<half_for_m<ElemType::kF16, ElemType::kF32>>},
    {"linear.bf16w.smallM", at_one_row<half_for_m<ElemType::kBf16, ElemType::kF32>>},
    {"cast.f32>f16", [] { return half_cvt(HalfCvtKind::kF32ToF16); }},
    {"cast.f16>f32", [] { return half_cvt(HalfCvtKind::kF16ToF32); }},
    {"cast.f32>bf16", [] { return half_cvt(HalfCvtKind::kF32ToBf16); }},
    {"cast.bf16>f32", [] { return half_cvt(HalfCvtKind::kBf16ToF32); }},
    {"linear.sparse.csr", [] { return f32_spmm_table.select().xt_name[int(SparseFormat::kCsr)]; }},
    {"linear.sparse.csr.smallM", [] { return f32_spmm_table.select().row_name[int(SparseFormat::kCsr)]; }},
    {"linear.sparse.bsr", [] { return f32_spmm_table.select().xt_name[int(SparseFormat::kBsr)]; }},
    {"linear.sparse.bsr.smallM", [] { return f32_spmm_table.select().row_name[int(SparseFormat::kBsr)]; }},
    {"linear.sparse.nm", [] {
       const F32SpmmVariant& v = f32_spmm_table.select();
       return v.nm_panel ? v.nm_panel_name : v.xt_name[int(SparseFormat::kNm)];
     }},
    {"linear.sparse.nm.smallM", [] {
       const F32SpmmVariant& v = f32_spmm_table.select();
       return v.nm_panel ? v.nm_panel_name : v.row_name[int(SparseFormat::kNm)];
     }},
    {"linear.sparse.int8", [] { return s8_spmm_table.select().xt_name; }},
    {"linear.sparse.int8.smallM", [] { return s8_spmm_table.select().row_name; }},
    {"matmul.s8", [] { return s8_gemm_table.select().name; }, s8_for_m},
    {"matmul.s8.smallM", at_one_row<s8_for_m>},
    {"linear.int8", [] { return s8_gemm_table.select().name; }, s8_for_m},
    {"linear.int8.smallM", at_one_row<s8_for_m>},
    {"quantize", [] { return quantize_table.select().name; }},
    {"conv2d.f32", [] { return f32_conv_table.select().name; }},
    {"convTranspose2d.f32", [] { return f32_conv_table.select().name; }},
    {"conv2d.f32.narrow", [] { return f32_conv_variant_for(1).name; }},  // layers with few output channels
    {"conv2d.s8", [] { return s8_gemm_table.select().name; }},
    {"depthwiseConv2d", [] { return f32_dwconv_table.select().name; }},
    {"maxPool2d", [] { return f32_pool_table.select().name; }},
    {"avgPool2d", [] { return f32_pool_table.select().name; }},
    {"globalAvgPool", [] { return f32_pool_table.select().name; }},
    {"globalMaxPool", [] { return f32_pool_table.select().name; }},
    {"resize", [] { return f32_resize_table.select().name; }},
    {"nchwToNhwc", [] { return f32_transpose_table.select().name; }},
    {"nhwcToNchw", [] { return f32_transpose_table.select().name; }},
};
}  // namespace

size_t op_kernels(OpKernel* out, size_t cap) {
  const size_t n = sizeof(kOpRows) / sizeof(kOpRows[0]);
  for (size_t i = 0; i < n && i < cap && out; i++) out[i] = {kOpRows[i].op, kOpRows[i].kernel()};
  return n;
}

const char* op_kernel_for_m(const char* op, size_t m) {
  for (const OpRow& r : kOpRows)
    if (std::strcmp(r.op, op) == 0) return r.kernel_m ? r.kernel_m(m) : r.kernel();
  return nullptr;
}

}  // namespace simdtensor
