// f32 GEMM driver. Loop nest (BLIS names): pc (K blocks) → ic (M blocks, A packed to L2) → jr (NR panels,
// B micro-panel in L1) → ir (MR tiles). B is prepacked over full K so no per-call B packing happens.
#include "runtime/f32/gemm_driver.h"

#include <algorithm>
#include <cstdlib>

#include "runtime/core/aligned.h"
#include "runtime/core/gemm_partition.h"
#include "runtime/f32/pack.h"
#include "runtime/core/parallel.h"

namespace simdtensor {

namespace {
// Tuning knobs for experiments and the bench (0 = use the default below).
size_t env_size(const char* name) {
  const char* s = std::getenv(name);
  return s ? size_t(std::strtoull(s, nullptr, 10)) : 0;
}
}  // namespace

F32GemmBlocking f32_gemm_blocking(const F32GemmVariant& v) {
  static const size_t kc_env = env_size("SIMDTENSOR_F32_KC"), mc_env = env_size("SIMDTENSOR_F32_MC");
  F32GemmBlocking bl;
  // kc = 1024, mc = 48: the B micro-panel (kc × nr floats, 128 KiB at nr = 32) streams from L2 (Zen 4/5 and recent
  // Intel feed 64 B/cycle from L2, 4× what the microkernel consumes) while the A micro-panel (8 × 1024 floats,
  // 32 KiB) stays in L1; a long K loop means few C read-modify-write passes and per-tile epilogues, and the B
  // prefetch running 128 rows ahead overshoots a K block by 1/8 instead of 1/4. Measured on Zen 5 (one thread,
  // medians of 7, alternated runs): 64/256/1024×1024×1024 and 255×1023×1023 went from 83–89 % of the FMA peak at
  // kc 512 / mc 96 to 86–97 %; 128×4096×1024 from 77 % to 77–80 %; kc 256 and 384 were slower still.
  bl.kc = kc_env ? kc_env : 1024;
  bl.mc = mc_env ? std::max<size_t>(v.mr, (mc_env / v.mr) * v.mr) : std::max<size_t>(v.mr, (48 / v.mr) * v.mr);
  bl.small_m = 2 * v.mr;
  return bl;
}

namespace {
thread_local ScratchBuffer<float> t_apack;
// The blocked path reads A in place with the strided-A microkernels (the broadcasts cost the same as from a packed
// panel, and the scalar packing pass goes). Measured on Zen 5, one thread, into {out}, CPU-time medians of 5, three
// interleaved process pairs (load 1.3): 128×384×384 and 128×384×1536 (BERT-base Linears) 9–15 % faster,
// 255×1023×1023 5–12 %, 256/1024×1024×1024 1–7 %, 64×4096×1024 0–11 %; no shape slower. SIMDTENSOR_F32_STRIDED_A=0
// packs A as before (for A/B runs). It was opt-in for a while because it made the worker-termination test crash;
// the cause was the addon being unmapped under its own threads (fixed in binding/addon.cc), not this path.
bool strided_a() {
  static const bool on = [] {
    const char* s = std::getenv("SIMDTENSOR_F32_STRIDED_A");
    return !(s && s[0] == '0' && s[1] == '\0');
  }();
  return on;
}

// Rows per strided-A tile in the blocked path: the variant's taller strided-A tile (mr_sa: 12 × 32 on AVX-512, 24
// accumulators; the packed entry keeps mr = 8) unless A's row stride would put those rows in few L1 sets. L1D is
// 4 KiB per way on the cores we target (Zen 4/5 and recent Intel: 48 KiB, 12-way), so 12 rows at a stride within
// 512 B of a multiple of 4 KiB share one or two sets with the B lines and evict each other: on Zen 5, 12 rows ran
// 12 % (K = 1023) and 23 % (K = 1024) slower than 8, even at K = 1000 (96 B short of 4 KiB), and 2-4 % faster at the
// BERT strides (K = 384, 1536: 1.5 and 6 KiB). SIMDTENSOR_F32_SA_TALL=0 keeps mr rows (for A/B runs).
size_t sa_tile_rows(const F32GemmVariant& v, size_t lda) {
  static const bool tall = [] {
    const char* s = std::getenv("SIMDTENSOR_F32_SA_TALL");
    return !(s && s[0] == '0' && s[1] == '\0');
  }();
  if (!tall || v.mr_sa <= v.mr) return v.mr;
  const size_t r = (lda * sizeof(float)) % 4096;
  return r >= 512 && r <= 4096 - 512 ? v.mr_sa : v.mr;
}

// One task: rows [m0, m1) × columns [n0, n1) over the K range [k0, k1), written to c (an M×N matrix indexed by
// global row/column, row stride ldc). bias and the activation are applied only when `epilogue` (the last K range).
struct GemmTile {
  size_t m0, m1, n0, n1, k0, k1;
  float* c;
  size_t ldc;
  bool epilogue;
};

// `small` is decided once per call from the whole M (not the tile), so every thread count takes the same path
// and results are bit-identical across thread counts (K splitting aside).
void gemm_task(const F32GemmVariant& v, const F32GemmBlocking& bl, const F32GemmArgs& g, bool small,
               const GemmTile& t) {
  const size_t mr = v.mr, nr = v.nr, K = t.k1 - t.k0;
  const size_t m0 = t.m0, m1 = t.m1, n0 = t.n0, n1 = t.n1, ldc = t.ldc;
  const size_t mrows = m1 - m0;
  const float* bias_all = t.epilogue ? g.bias : nullptr;
  const unsigned epi = t.epilogue ? kGemmEpilogue : 0u;
  if (K == 0) {
    // No products: C = act(bias) (or 0). Run the microkernel with kc = 0 so the epilogue is the same code.
    for (size_t j = n0; j < n1; j += nr)
      for (size_t i = m0; i < m1; i += mr)
        v.ukernel(std::min(mr, m1 - i), std::min(nr, n1 - j), 0, nullptr, nullptr, t.c + i * ldc + j, ldc, epi,
                  bias_all ? bias_all + j : nullptr, g.act);
    return;
  }
  if (small) {
    // Small M: pack all of A once; each B panel is read from memory exactly once, sequentially.
    float* ap = t_apack.get(((mrows + mr - 1) / mr) * mr * K);
    pack_a_f32(g.a + m0 * g.lda + t.k0, g.lda, mrows, K, mr, ap);
    for (size_t j = n0; j < n1; j += nr) {
      const float* bp = g.b_packed + (j / nr) * g.k * nr + t.k0 * nr;
      for (size_t i = 0; i < mrows; i += mr)
        v.ukernel(std::min(mr, mrows - i), std::min(nr, n1 - j), K, ap + i * K, bp, t.c + (m0 + i) * ldc + j, ldc,
                  epi, bias_all ? bias_all + j : nullptr, g.act);
    }
    return;
  }
  const size_t kc_max = bl.kc, mc_max = bl.mc;
  if (strided_a()) {
    // A read in place by the strided-A twin: no packing pass (pack_a_f32 gathers element by element).
    const size_t mt = sa_tile_rows(v, g.lda);
    for (size_t pc = t.k0; pc < t.k1; pc += kc_max) {
      const size_t kc = std::min(kc_max, t.k1 - pc);
      unsigned flags = (pc == t.k0 ? 0u : kGemmAccumulate) | (pc + kc == t.k1 ? epi : 0u);
      for (size_t ic = m0; ic < m1; ic += mc_max) {
        const size_t mc = std::min(mc_max, m1 - ic);
        for (size_t j = n0; j < n1; j += nr) {
          const float* bp = g.b_packed + (j / nr) * g.k * nr + pc * nr;
          const size_t nv = std::min(nr, n1 - j);
          const float* bias = bias_all ? bias_all + j : nullptr;
          for (size_t i = 0; i < mc; i += mt)
            v.ukernel_sa(std::min(mt, mc - i), nv, kc, g.a + (ic + i) * g.lda + pc, g.lda, bp,
                         t.c + (ic + i) * ldc + j, ldc, flags, bias, g.act);
        }
      }
    }
    return;
  }
  float* ap = t_apack.get(((std::min(mc_max, mrows) + mr - 1) / mr) * mr * kc_max);
  for (size_t pc = t.k0; pc < t.k1; pc += kc_max) {
    const size_t kc = std::min(kc_max, t.k1 - pc);
    unsigned flags = (pc == t.k0 ? 0u : kGemmAccumulate) | (pc + kc == t.k1 ? epi : 0u);
    for (size_t ic = m0; ic < m1; ic += mc_max) {
      const size_t mc = std::min(mc_max, m1 - ic);
      pack_a_f32(g.a + ic * g.lda + pc, g.lda, mc, kc, mr, ap);
      for (size_t j = n0; j < n1; j += nr) {
        const float* bp = g.b_packed + (j / nr) * g.k * nr + pc * nr;
        const size_t nv = std::min(nr, n1 - j);
        const float* bias = bias_all ? bias_all + j : nullptr;
        for (size_t i = 0; i < mc; i += mr)
          v.ukernel(std::min(mr, mc - i), nv, kc, ap + i * kc, bp, t.c + (ic + i) * ldc + j, ldc, flags, bias,
                    g.act);
      }
    }
  }
}

inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
}  // namespace

F32GemmPartition f32_gemm_partition(const F32GemmVariant& v, size_t m, size_t n, size_t k, size_t threads) {
  const F32GemmBlocking bl = f32_gemm_blocking(v);
  F32GemmPartition p{m, ceil_div(n, v.nr) * v.nr, k, 1, 1, 1};
  if (m == 0 || n == 0) return p;
  const double flops = 2.0 * double(m) * double(n) * double(k);
  // Below ~2 MFLOP (~10 µs on one core) waking threads costs more than it saves: run on the calling thread.
  if (threads <= 1 || flops < kF32GemmMinParallelFlops) return p;
  // M×N grid (shared with the int8 and half drivers), then K for f32.
  const GemmGrid grid = gemm_grid(m, n, flops, v.mr, v.nr, bl.small_m, threads, kF32GemmMinParallelFlops);
  p.rows_per = grid.rows_per;
  p.cols_per = grid.cols_per;
  p.tm = grid.tm;
  p.tn = grid.tn;
  const size_t want = std::min<size_t>(4 * threads, std::max<size_t>(threads, size_t(flops / 1e6)));
  // Then K, when M×N has at most half as many tiles as threads and K is long: partial sums per K chunk, reduced
  // after. (With more tiles the extra pass and the changed summation order are not worth the last few threads.)
  const size_t tiles = p.tm * p.tn;
  if (2 * tiles <= threads && k >= 2 * kF32GemmMinKChunk) {
    size_t tk = std::min(want / tiles, k / kF32GemmMinKChunk);
    // Cap the partial-sum scratch at 64 MiB.
    const size_t mn_bytes = m * n * sizeof(float);
    tk = std::min(tk, 1 + (size_t(64) << 20) / std::max<size_t>(mn_bytes, 1));
    if (tk > 1) {
      p.k_per = ceil_div(ceil_div(k, tk), 64) * 64;
      p.tk = ceil_div(k, p.k_per);
    }
  }
  if (p.tk == 1) p.k_per = k;
  return p;
}

void f32_gemm_run(const F32GemmVariant& v, const F32GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  const F32GemmBlocking bl = f32_gemm_blocking(v);
  const bool small = g.m <= bl.small_m;
  const F32GemmPartition p = f32_gemm_partition(v, g.m, g.n, g.k, size_t(num_threads()));
  const size_t mn = p.tm * p.tn;
  if (p.tk == 1) {
    parallel_for(mn, [&](size_t t) {
      const size_t im = t / p.tn, in = t % p.tn;
      const size_t m0 = im * p.rows_per, m1 = std::min(g.m, m0 + p.rows_per);
      const size_t n0 = in * p.cols_per, n1 = std::min(g.n, n0 + p.cols_per);
      if (m0 < m1 && n0 < n1) gemm_task(v, bl, g, small, GemmTile{m0, m1, n0, n1, 0, g.k, g.c, g.ldc, true});
    });
    return;
  }
  // K split: chunk 0 writes C, chunk i > 0 its own M×N partial; then C = act(C + Σ partials + bias).
  const size_t ldp = g.n;
  AlignedPtr<float> partials = aligned_alloc_array<float>((p.tk - 1) * g.m * ldp);
  parallel_for(p.tk * mn, [&](size_t t) {
    const size_t ik = t / mn, r = t % mn, im = r / p.tn, in = r % p.tn;
    const size_t m0 = im * p.rows_per, m1 = std::min(g.m, m0 + p.rows_per);
    const size_t n0 = in * p.cols_per, n1 = std::min(g.n, n0 + p.cols_per);
    const size_t k0 = ik * p.k_per, k1 = std::min(g.k, k0 + p.k_per);
    float* c = ik == 0 ? g.c : partials.get() + (ik - 1) * g.m * ldp;
    const size_t ldc = ik == 0 ? g.ldc : ldp;
    if (m0 < m1 && n0 < n1 && k0 < k1) gemm_task(v, bl, g, small, GemmTile{m0, m1, n0, n1, k0, k1, c, ldc, false});
  });
  const bool epilogue = g.bias != nullptr || g.act != kActNone;
  parallel_for(ceil_div(g.m, v.mr), [&](size_t it) {
    const size_t i0 = it * v.mr, i1 = std::min(g.m, i0 + v.mr);
    for (size_t i = i0; i < i1; i++) {
      float* c = g.c + i * g.ldc;
      for (size_t ik = 1; ik < p.tk; ik++) {
        const float* s = partials.get() + (ik - 1) * g.m * ldp + i * ldp;
        for (size_t j = 0; j < g.n; j++) c[j] += s[j];
      }
    }
    if (epilogue)
      for (size_t j = 0; j < g.n; j += v.nr)
        v.ukernel(i1 - i0, std::min(v.nr, g.n - j), 0, nullptr, nullptr, g.c + i0 * g.ldc + j, g.ldc,
                  kGemmAccumulate | kGemmEpilogue, g.bias ? g.bias + j : nullptr, g.act);
  });
}

}  // namespace simdtensor
