// Half GEMM driver. Loop nest (BLIS names): pc (K blocks) → ic (M blocks, A packed to L2 in the variant's format,
// half A widened on the way) → jr (NR panels, B micro-panel in L1) → ir (MR tiles). B is prepacked over full K.
#include "runtime/half/gemm_driver.h"

#include <algorithm>

#include "kernels/half-convert/half-convert.h"
#include "runtime/core/aligned.h"
#include "runtime/half/gemv_driver.h"
#include "runtime/half/pack.h"
#include "runtime/half/packed_weights.h"
#include "runtime/core/gemm_partition.h"
#include "runtime/core/parallel.h"

namespace simdtensor {

HalfGemmBlocking half_gemm_blocking(const HalfGemmVariant& v) {
  HalfGemmBlocking bl;
  // 64 KiB of B micro-panel (kc × nr halves: kc = 1024 at nr = 32) streaming from L2, and mc = 48, as for f32
  // (runtime/f32/gemm_driver.cc): measured on Zen 5 against 32 KiB / mc 96, f16 189–195 -> 196–199 and bf16 329–370 ->
  // 356–377 GFLOP/s at 64–1024×1024×1024 (two alternated runs). A multiple of 32 so that every K block but the
  // last is whole for pairs, AMX tiles and the fp16 fold blocks.
  bl.kc = std::max<size_t>(64, std::min<size_t>(1024, ((65536 / 2) / v.b.nr) / 32 * 32));  // A panel ≤ 32 KiB too
  bl.mc = std::max<size_t>(v.mr, (48 / v.mr) * v.mr);
  bl.small_m = 2 * v.mr;
  return bl;
}

namespace {
thread_local ScratchBuffer<float> t_apack;
thread_local ScratchBuffer<float> t_atmp;

void* apack_buffer(const HalfGemmVariant& v, size_t rows, size_t kc) {
  const size_t tiles = (rows + v.mr - 1) / v.mr;
  return t_apack.get((tiles * packed_a_tile_bytes(v, kc) + 3) / 4);
}

// One task: rows [m0, m1) × columns [n0, n1) over all of K.
void half_gemm_task(const HalfGemmVariant& v, const HalfGemmBlocking& bl, const HalfGemmArgs& g, size_t m0, size_t m1,
                    size_t n0, size_t n1) {
  const size_t mr = v.mr, nr = v.b.nr, K = g.k;
  const size_t kp = round_up(K, v.b.kpad);
  const size_t mrows = m1 - m0;
  const size_t esz = g.a_type == ElemType::kF32 ? 4 : 2;
  const char* a_base = static_cast<const char*>(g.a) + m0 * g.lda * esz;
  if (K == 0) {
    for (size_t j = n0; j < n1; j += nr)
      for (size_t i = m0; i < m1; i += mr)
        v.ukernel(std::min(mr, m1 - i), std::min(nr, n1 - j), 0, nullptr, nullptr, g.c + i * g.ldc + j, g.ldc,
                  kGemmEpilogue, g.bias ? g.bias + j : nullptr, g.act);
    return;
  }
  if (mrows <= bl.small_m) {
    // Small M: pack all of A once; each B panel is read from memory exactly once, sequentially.
    char* ap = static_cast<char*>(apack_buffer(v, mrows, K));
    pack_a_half(v, a_base, g.a_type, g.lda, mrows, 0, K, ap, t_atmp.get(mrows * K));
    const size_t tile = packed_a_tile_bytes(v, K);
    for (size_t j = n0; j < n1; j += nr) {
      const uint16_t* bp = g.b_panels + (j / nr) * kp * nr;
      for (size_t i = 0; i < mrows; i += mr)
        v.ukernel(std::min(mr, mrows - i), std::min(nr, n1 - j), K, ap + (i / mr) * tile, bp,
                  g.c + (m0 + i) * g.ldc + j, g.ldc, kGemmEpilogue, g.bias ? g.bias + j : nullptr, g.act);
    }
    return;
  }
  const size_t kc_max = bl.kc, mc_max = bl.mc;
  char* ap = static_cast<char*>(apack_buffer(v, std::min(mc_max, mrows), kc_max));
  float* tmp = t_atmp.get(std::min(mc_max, mrows) * kc_max);
  for (size_t pc = 0; pc < K; pc += kc_max) {
    const size_t kc = std::min(kc_max, K - pc);
    const size_t tile = packed_a_tile_bytes(v, kc);
    const unsigned flags = (pc == 0 ? 0u : kGemmAccumulate) | (pc + kc == K ? kGemmEpilogue : 0u);
    for (size_t ic = 0; ic < mrows; ic += mc_max) {
      const size_t mc = std::min(mc_max, mrows - ic);
      pack_a_half(v, a_base + ic * g.lda * esz, g.a_type, g.lda, mc, pc, kc, ap, tmp);
      for (size_t j = n0; j < n1; j += nr) {
        const uint16_t* bp = g.b_panels + (j / nr) * kp * nr + pc * nr;
        const size_t nv = std::min(nr, n1 - j);
        const float* bias = g.bias ? g.bias + j : nullptr;
        for (size_t i = 0; i < mc; i += mr)
          v.ukernel(std::min(mr, mc - i), nv, kc, ap + (i / mr) * tile, bp, g.c + (m0 + ic + i) * g.ldc + j, g.ldc,
                    flags, bias, g.act);
      }
    }
  }
}

thread_local ScratchBuffer<float> t_cout;
thread_local ScratchBuffer<uint16_t> t_bpack;

// Runs the product into f32 (straight into `out` when it is f32, else through scratch and one narrowing pass).
void run_with_output(const HalfGemmVariant& v, HalfGemmArgs g, const HalfMatmulOut& o) {
  if (g.m == 0 || g.n == 0) return;  // an empty output: no rows to narrow
  if (o.out_type == ElemType::kF32) {
    g.c = static_cast<float*>(o.out);
    g.ldc = o.ldo;
    half_gemm_run(v, g);
    return;
  }
  g.c = t_cout.get(g.m * g.n);
  g.ldc = g.n;
  half_gemm_run(v, g);
  const HalfCvtVariant& cv = half_cvt_select(o.out_type == ElemType::kF16 ? HalfCvtKind::kF32ToF16 : HalfCvtKind::kF32ToBf16);
  uint16_t* y = static_cast<uint16_t*>(o.out);
  for (size_t i = 0; i < g.m; i++) cv.fn(g.n, g.c + i * g.n, y + i * o.ldo);
}

// Whether the native-fp16 variant (if it is the one that would run) may run for these magnitudes. The max|B|
// callback is only evaluated when it matters (a raw B costs a pass over K×N).
template <class BMax>
bool range_ok_for(ElemType b_type, ElemType a_type, const void* a, size_t m, size_t k, size_t lda, BMax bmax) {
  const HalfGemmVariant& first = half_gemm_select(b_type, a_type, true);
  if (first.kblock == 0) return true;
  return half_gemm_fp16_range_ok(first.kblock, max_abs(a, a_type, m, k, lda), bmax());
}
}  // namespace

void half_gemm_run(const HalfGemmVariant& v, const HalfGemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  if (const HalfGemvVariant* sv = half_gemv_small_m(v, g.a_type, g.m)) return half_gemv_run(*sv, v.b.kpad, g);
  half_gemm_run_tiles(v, g);
}

void half_gemm_run_tiles(const HalfGemmVariant& v, const HalfGemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  const HalfGemmBlocking bl = half_gemm_blocking(v);
  const size_t nr = v.b.nr;
  // The shared task grid (runtime/core/gemm_partition.h): below ~1 MFLOP one task, else up to 8 per thread, M first.
  const GemmGrid grid = gemm_grid(g.m, g.n, 2.0 * double(g.m) * double(g.n) * double(g.k), v.mr, nr, bl.small_m,
                                  size_t(num_threads()), 1e6);
  const size_t tm = grid.tm, tn = grid.tn, rows_per = grid.rows_per, panels_per = grid.cols_per / nr;
  parallel_for(tm * tn, [&](size_t t) {
    const size_t im = t / tn, in = t % tn;
    const size_t m0 = im * rows_per, m1 = std::min(g.m, m0 + rows_per);
    const size_t n0 = in * panels_per * nr, n1 = std::min(g.n, n0 + panels_per * nr);
    if (m0 < m1 && n0 < n1) half_gemm_task(v, bl, g, m0, m1, n0, n1);
  });
}

const HalfGemmVariant& half_matmul_variant(ElemType b_type, ElemType a_type) {
  return half_gemm_select(b_type, a_type, true);
}

const char* half_matmul(const HalfMatmulArgs& x) {
  PackedHalfWeights& w = *x.w;
  if (x.m == 0 || w.n() == 0) return half_matmul_variant(w.type(), x.a_type).name;  // empty output: no work
  const bool ok = range_ok_for(w.type(), x.a_type, x.a, x.m, w.k(), x.lda, [&] { return w.max_abs(); });
  const HalfGemmVariant& v = half_gemm_select(w.type(), x.a_type, ok);
  run_with_output(v, {x.m, w.n(), w.k(), x.a, x.a_type, x.lda, w.panels(v.b), nullptr, 0, x.o.bias, x.o.act}, x.o);
  return half_kernel_for_m(v, x.a_type, x.m);
}

const char* half_matmul_raw(const HalfMatmulRawArgs& x) {
  if (x.m == 0 || x.n == 0) return half_matmul_variant(x.b_type, x.a_type).name;  // empty output: no work
  const bool ok = range_ok_for(x.b_type, x.a_type, x.a, x.m, x.k, x.lda, [&] {
    return x.trans_b ? max_abs(x.b, x.b_type, x.n, x.k, x.ldb) : max_abs(x.b, x.b_type, x.k, x.n, x.ldb);
  });
  const HalfGemmVariant& v = half_gemm_select(x.b_type, x.a_type, ok);
  uint16_t* bp = t_bpack.get(packed_b_half_count(x.k, x.n, v.b));
  pack_b_half(x.b, x.ldb, x.trans_b, x.k, x.n, v.b, bp);
  run_with_output(v, {x.m, x.n, x.k, x.a, x.a_type, x.lda, bp, nullptr, 0, x.o.bias, x.o.act}, x.o);
  return half_kernel_for_m(v, x.a_type, x.m);
}

}  // namespace simdtensor
