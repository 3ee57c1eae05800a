// Dynamic-quantized linear: per-row activation quantization, then one int8 GEMM with the f32 epilogue.
#include "runtime/int8/linear.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"
#include "runtime/int8/gemm_driver.h"
#include "runtime/int8/gemv_driver.h"
#include "runtime/int8/packed_weights.h"

namespace simdtensor {

bool quantize_row_dynamic(const QuantizeVariant& qv, size_t k, const float* x, bool is_unsigned, uint8_t* out,
                          float* scale, int32_t* zero) {
  const bool symmetric = !is_unsigned;
  int32_t qmin, qmax;
  quant_range(is_unsigned, symmetric, &qmin, &qmax);
  float mn, mx;
  // An empty row (k = 0) is all zeros, not a bad row: the min/max of nothing (±Inf) must not reach `bad`, or
  // x·wᵀ over K = 0 would come out NaN instead of 0 (+ bias).
  bool nan = false;
  if (k == 0) mn = mx = 0.0f;
  else nan = qv.minmax(k, x, &mn, &mx);
  const bool bad = nan || std::isinf(mn) || std::isinf(mx);
  const QuantParams p = bad ? QuantParams{1.0f, 0} : quant_choose_params(mn, mx, is_unsigned, symmetric);
  if (bad) {
    for (size_t p2 = 0; p2 < k; p2++) out[p2] = uint8_t(p.zero);
  } else {
    qv.quantize(k, x, 1.0f / p.scale, p.zero, qmin, qmax, out);
  }
  *scale = bad ? std::numeric_limits<float>::quiet_NaN() : p.scale;
  *zero = p.zero;
  return bad;
}

void quantize_rows_dynamic(const QuantizeVariant& qv, size_t m, size_t k, const float* x, size_t ldx,
                           bool is_unsigned, uint8_t* out, size_t ldo, float* scales, int32_t* zeros,
                           uint8_t* bad_row) {
  if (m == 0) return;  // zero rows: nothing to quantize (and no task size to divide by)
  const size_t rows_per = m * k < 65536 ? m : std::max<size_t>(1, 16384 / std::max<size_t>(k, 1));
  const size_t tasks = (m + rows_per - 1) / rows_per;
  parallel_for(tasks, [&](size_t t) {
    const size_t r0 = t * rows_per, r1 = std::min(m, r0 + rows_per);
    qv.quantize_rows(r1 - r0, k, x + r0 * ldx, ldx, is_unsigned, out + r0 * ldo, ldo, scales + r0, zeros + r0, bad_row + r0);
  });
}

namespace {
thread_local ScratchBuffer<uint8_t> t_xq;
thread_local ScratchBuffer<float> t_xs;
thread_local ScratchBuffer<int32_t> t_xz;
thread_local ScratchBuffer<uint8_t> t_bad;
thread_local ScratchBuffer<int32_t> t_xi;

// M <= kS8GemvMaxM: each row is quantized straight into the small-M kernel's input (u8, or s8 for NEON sdot, K
// zero-padded to the bound panels' kpad) in a thread-local buffer, the row sums taken only when the weights have zero
// points; no separate quantize pass over a full-size buffer, no A packing, no task hand-off for the quantization.
const uint8_t* s8_linear_small_m(const S8GemvVariant& sv, const S8GemmVariant& gv, const QuantizeVariant& qv,
                       const S8LinearDynamicArgs& a) {
  const size_t m = a.m, k = a.w->k(), kpad = s8_gemv_kpad(gv, k), lda = s8_gemv_row_stride(kpad);
  uint8_t* xq = t_xq.get(m * lda);
  float* xs = t_xs.get(m);
  int32_t* xz = t_xz.get(m);
  int32_t* za = t_xi.get(2 * m);
  int32_t* rs = za + m;
  uint8_t* bad = t_bad.get(m);
  S8GemmArgs g{};
  g.m = m;
  g.n = a.w->n();
  g.k = k;
  s8_gemm_bind_weights(gv, *a.w, &g);
  const int32_t oa = sv.a_signed ? -128 : 0;  // u8 rows; the sdot kernel reads s8
  for (size_t i = 0; i < m; i++) {
    uint8_t* row = xq + i * lda;
    bad[i] = quantize_row_dynamic(qv, k, a.x + i * a.ldx, true, row, &xs[i], &xz[i]) ? 1 : 0;
    if (sv.a_signed)
      for (size_t p = 0; p < k; p++) row[p] ^= 0x80;
    for (size_t p = k; p < kpad; p++) row[p] = 0;
    za[i] = xz[i] + oa;
    if (g.zb) {
      uint32_t s = 0;
      for (size_t p = 0; p < k; p++) s += sv.a_signed ? uint32_t(int32_t(int8_t(row[p]))) : uint32_t(row[p]);
      rs[i] = int32_t(s);
    }
  }
  g.out = kS8OutF32;
  g.c = a.y;
  g.ldc = a.ldy;
  g.bias = a.bias;
  g.act = a.act;
  s8_gemv_run(sv, g, S8GemvRows{xq, lda, za, rs, xs, kpad});
  return bad;
}

// Larger M: quantize every row (split over threads) into a full buffer, then the GEMM. Returns the bad-row flags.
const uint8_t* run_gemm(const S8GemmVariant& gv, const QuantizeVariant& qv, const S8LinearDynamicArgs& a) {
  const size_t m = a.m, k = a.w->k(), n = a.w->n();
  uint8_t* xq = t_xq.get(m * k);
  float* xs = t_xs.get(m);
  int32_t* xz = t_xz.get(m);
  uint8_t* bad = t_bad.get(m);
  quantize_rows_dynamic(qv, m, k, a.x, a.ldx, true, xq, k, xs, xz, bad);
  S8GemmArgs g = s8_gemm_args(gv, *a.w, m, n, k, xq, k, true);
  g.a_zero = xz;
  g.a_zero_stride = 1;
  g.a_scale = xs;
  g.a_scale_stride = 1;
  g.out = kS8OutF32;
  g.c = a.y;
  g.ldc = a.ldy;
  g.bias = a.bias;
  g.act = a.act;
  s8_gemm_run(gv, g);
  return bad;
}
}  // namespace

void s8_linear_dynamic_run(const S8GemmVariant& gv, const QuantizeVariant& qv, const S8LinearDynamicArgs& a) {
  const size_t m = a.m, n = a.w->n();
  if (m == 0 || n == 0) return;
  const S8GemvVariant* sv = s8_gemv_for_m(gv, m);
  const uint8_t* bad = sv ? s8_linear_small_m(*sv, gv, qv, a) : run_gemm(gv, qv, a);
  // A NaN scale already gives NaN through the epilogue; write it explicitly so no activation rule can hide it.
  for (size_t i = 0; i < m; i++)
    if (bad[i])
      for (size_t j = 0; j < n; j++) a.y[i * a.ldy + j] = std::numeric_limits<float>::quiet_NaN();
}

}  // namespace simdtensor
