// f32 GEMM driver. Loop nest (BLIS names): pc (K blocks) → ic (M blocks, A packed to L2) → jr (NR panels,
// B micro-panel in L1) → ir (MR tiles). B is prepacked over full K so no per-call B packing happens.
#include "runtime/gemm_driver.h"

#include <algorithm>

#include "runtime/aligned.h"
#include "runtime/pack.h"
#include "runtime/parallel.h"

namespace simdtensor {

F32GemmBlocking f32_gemm_blocking(const F32GemmVariant& v) {
  F32GemmBlocking bl;
  // 32 KiB of the 48 KiB L1D for the B micro-panel (kc × nr floats).
  bl.kc = std::max<size_t>(64, (32768 / 4) / v.nr);
  bl.mc = std::max<size_t>(v.mr, (96 / v.mr) * v.mr);
  bl.small_m = 2 * v.mr;
  return bl;
}

namespace {
thread_local ScratchBuffer<float> t_apack;

// One task: rows [m0, m1) × columns [n0, n1) over all of K.
void gemm_task(const F32GemmVariant& v, const F32GemmBlocking& bl, const F32GemmArgs& g, size_t m0, size_t m1,
               size_t n0, size_t n1) {
  const size_t mr = v.mr, nr = v.nr, K = g.k;
  const size_t mrows = m1 - m0;
  if (K == 0) {
    // No products: C = act(bias) (or 0). Run the microkernel with kc = 0 so the epilogue is the same code.
    for (size_t j = n0; j < n1; j += nr)
      for (size_t i = m0; i < m1; i += mr)
        v.ukernel(std::min(mr, m1 - i), std::min(nr, n1 - j), 0, nullptr, nullptr, g.c + i * g.ldc + j, g.ldc,
                  kGemmEpilogue, g.bias ? g.bias + j : nullptr, g.act);
    return;
  }
  if (mrows <= bl.small_m) {
    // Small M: pack all of A once; each B panel is read from memory exactly once, sequentially.
    float* ap = t_apack.get(((mrows + mr - 1) / mr) * mr * K);
    pack_a_f32(g.a + m0 * g.lda, g.lda, mrows, K, mr, ap);
    for (size_t j = n0; j < n1; j += nr) {
      const float* bp = g.b_packed + (j / nr) * K * nr;
      for (size_t i = 0; i < mrows; i += mr)
        v.ukernel(std::min(mr, mrows - i), std::min(nr, n1 - j), K, ap + i * K, bp, g.c + (m0 + i) * g.ldc + j,
                  g.ldc, kGemmEpilogue, g.bias ? g.bias + j : nullptr, g.act);
    }
    return;
  }
  const size_t kc_max = bl.kc, mc_max = bl.mc;
  float* ap = t_apack.get(((std::min(mc_max, mrows) + mr - 1) / mr) * mr * kc_max);
  for (size_t pc = 0; pc < K; pc += kc_max) {
    const size_t kc = std::min(kc_max, K - pc);
    unsigned flags = (pc == 0 ? 0u : kGemmAccumulate) | (pc + kc == K ? kGemmEpilogue : 0u);
    for (size_t ic = m0; ic < m1; ic += mc_max) {
      const size_t mc = std::min(mc_max, m1 - ic);
      pack_a_f32(g.a + ic * g.lda + pc, g.lda, mc, kc, mr, ap);
      for (size_t j = n0; j < n1; j += nr) {
        const float* bp = g.b_packed + (j / nr) * K * nr + pc * nr;
        const size_t nv = std::min(nr, n1 - j);
        const float* bias = g.bias ? g.bias + j : nullptr;
        for (size_t i = 0; i < mc; i += mr)
          v.ukernel(std::min(mr, mc - i), nv, kc, ap + i * kc, bp, g.c + (ic + i) * g.ldc + j, g.ldc, flags, bias,
                    g.act);
      }
    }
  }
}
}  // namespace

void f32_gemm_run(const F32GemmVariant& v, const F32GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  const F32GemmBlocking bl = f32_gemm_blocking(v);
  const size_t T = size_t(num_threads());
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  // Work below ~1 MFLOP is not worth waking threads for.
  const size_t max_tasks = flops < 1e6 ? 1 : T;
  const size_t m_tiles = (g.m + v.mr - 1) / v.mr;
  const size_t n_panels = (g.n + v.nr - 1) / v.nr;
  // Split M first (threads share B panels, each packs only its own A rows); then N.
  size_t tm = std::min(max_tasks, m_tiles);
  if (g.m <= bl.small_m) tm = 1;
  size_t tn = std::min(std::max<size_t>(1, max_tasks / tm), n_panels);
  const size_t rows_per = ((m_tiles + tm - 1) / tm) * v.mr;
  const size_t panels_per = (n_panels + tn - 1) / tn;
  tm = (g.m + rows_per - 1) / rows_per;
  tn = (n_panels + panels_per - 1) / panels_per;
  parallel_for(tm * tn, [&](size_t t) {
    const size_t im = t / tn, in = t % tn;
    const size_t m0 = im * rows_per, m1 = std::min(g.m, m0 + rows_per);
    const size_t n0 = in * panels_per * v.nr, n1 = std::min(g.n, n0 + panels_per * v.nr);
    if (m0 < m1 && n0 < n1) gemm_task(v, bl, g, m0, m1, n0, n1);
  });
}

}  // namespace simdtensor
