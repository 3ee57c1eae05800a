// Dynamic-quantized linear: per-row activation quantization, then one int8 GEMM with the f32 epilogue.
#include "runtime/s8_linear.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/aligned.h"
#include "runtime/parallel.h"
#include "runtime/s8_gemm_driver.h"
#include "runtime/s8_packed_weights.h"

namespace simdtensor {

void quantize_rows_dynamic(const QuantizeVariant& qv, size_t m, size_t k, const float* x, size_t ldx,
                           bool is_unsigned, uint8_t* out, size_t ldo, float* scales, int32_t* zeros,
                           uint8_t* bad_row) {
  const bool symmetric = !is_unsigned;
  int32_t qmin, qmax;
  quant_range(is_unsigned, symmetric, &qmin, &qmax);
  if (m == 0) return;  // zero rows: nothing to quantize (and no task size to divide by)
  const size_t rows_per = m * k < 65536 ? m : std::max<size_t>(1, 16384 / std::max<size_t>(k, 1));
  const size_t tasks = (m + rows_per - 1) / rows_per;
  parallel_for(tasks, [&](size_t t) {
    const size_t r1 = std::min(m, (t + 1) * rows_per);
    for (size_t i = t * rows_per; i < r1; i++) {
      float mn, mx;
      // An empty row (k = 0) is all zeros, not a bad row: the min/max of nothing (±Inf) must not reach `bad`, or
      // x·wᵀ over K = 0 would come out NaN instead of 0 (+ bias).
      bool nan = false;
      if (k == 0) mn = mx = 0.0f;
      else nan = qv.minmax(k, x + i * ldx, &mn, &mx);
      const bool bad = nan || std::isinf(mn) || std::isinf(mx);
      const QuantParams p = bad ? QuantParams{1.0f, 0} : quant_choose_params(mn, mx, is_unsigned, symmetric);
      if (bad) {
        for (size_t p2 = 0; p2 < k; p2++) out[i * ldo + p2] = uint8_t(p.zero);
      } else {
        qv.quantize(k, x + i * ldx, 1.0f / p.scale, p.zero, qmin, qmax, out + i * ldo);
      }
      scales[i] = bad ? std::numeric_limits<float>::quiet_NaN() : p.scale;
      zeros[i] = p.zero;
      bad_row[i] = bad ? 1 : 0;
    }
  });
}

namespace {
thread_local ScratchBuffer<uint8_t> t_xq;
thread_local ScratchBuffer<float> t_xs;
thread_local ScratchBuffer<int32_t> t_xz;
thread_local ScratchBuffer<uint8_t> t_bad;
}  // namespace

void s8_linear_dynamic_run(const S8GemmVariant& gv, const QuantizeVariant& qv, const S8LinearDynamicArgs& a) {
  const size_t m = a.m, k = a.w->k(), n = a.w->n();
  if (m == 0 || n == 0) return;
  uint8_t* xq = t_xq.get(m * k);
  float* xs = t_xs.get(m);
  int32_t* xz = t_xz.get(m);
  uint8_t* bad = t_bad.get(m);
  quantize_rows_dynamic(qv, m, k, a.x, a.ldx, true, xq, k, xs, xz, bad);
  S8GemmArgs g{};
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = xq;
  g.lda = k;
  g.a_unsigned = true;
  g.a_zero = xz;
  g.a_zero_stride = 1;
  g.a_scale = xs;
  g.a_scale_stride = 1;
  s8_gemm_bind_weights(gv, *a.w, &g);
  g.out = kS8OutF32;
  g.c = a.y;
  g.ldc = a.ldy;
  g.bias = a.bias;
  g.act = a.act;
  s8_gemm_run(gv, g);
  // A NaN scale already gives NaN through the epilogue; write it explicitly so no activation rule can hide it.
  for (size_t i = 0; i < m; i++)
    if (bad[i])
      for (size_t j = 0; j < n; j++) a.y[i * a.ldy + j] = std::numeric_limits<float>::quiet_NaN();
}

}  // namespace simdtensor
