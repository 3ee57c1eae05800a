// int8 GEMM driver. Loop nest: ic (M blocks: A packed once, whole K, in L2) → jr (NR panels of B) → kb (K blocks of
// at most kc, kGroups layouts only) → ir (MR tiles). The B slice of one K block (NR·kc bytes) stays in L1 while every
// MR tile of the M block passes over it; between K blocks the int32 partial sums of each tile wait in a small scratch
// (kS8OutAcc / acc_in), and the fused epilogue runs on the last block only, so results are bit-identical to one pass.
#include "runtime/int8/gemm_driver.h"

#include <algorithm>
#include <cstdlib>

#include "runtime/core/aligned.h"
#include "runtime/core/gemm_partition.h"
#include "runtime/core/parallel.h"
#include "runtime/int8/gemv_driver.h"
#include "runtime/int8/pack.h"
#include "runtime/int8/packed_weights.h"

namespace simdtensor {

namespace {
// Read once: a positive integer from the environment, or `def` (unset, empty or not a number).
size_t env_size(const char* name, size_t def) {
  const char* s = std::getenv(name);
  if (!s || !*s) return def;
  char* end = nullptr;
  const unsigned long x = std::strtoul(s, &end, 10);
  return *end ? def : size_t(x);
}
}  // namespace

void s8_gemm_bind_weights(const S8GemmVariant& v, PackedS8Weights& w, S8GemmArgs* g) {
  g->b_panels = w.panels(v.nr, v.kstep, v.kgroup);
  g->colcorr = w.colcorr();
  g->zb = w.zb();
  g->b_scale = w.scales();
}

size_t s8_gemm_mc(const S8GemmVariant& v, size_t kpad) {
  // About 256 KiB of packed A per block (a quarter of a 1 MiB L2, leaving room for the streaming B panels).
  const size_t rows = kpad ? (size_t(256) << 10) / kpad : size_t(1) << 20;
  return std::max(v.mr, std::min<size_t>(rows, 4096) / v.mr * v.mr);
}

size_t s8_gemm_kc_max() {
  static const size_t v = env_size("SIMDTENSOR_S8_KC", kS8GemmKcMax);
  return v;
}

size_t s8_gemm_kc(const S8GemmVariant& v, size_t kpad, size_t kmax) {
  // AMX's row layout keeps a tile's rows kpad apart, so a K slice is not contiguous there: one block.
  if (kmax == 0 || kpad <= kmax || v.a_layout != S8ALayout::kGroups) return kpad;
  const size_t blocks = (kpad + kmax - 1) / kmax;  // equal blocks (kmax 4096: K 4100 → 2 × 2052, not 4096 + 4)
  return s8_round_up((kpad + blocks - 1) / blocks, v.kstep);
}

namespace {
// The longest K whose rows the GEMM reads in place (s8_gemm_task's `direct`): rec's pointwise convs reach 480.
constexpr size_t kS8DirectAMaxK = 512;
thread_local ScratchBuffer<uint8_t> t_apack;
thread_local ScratchBuffer<int32_t> t_kacc;  // K blocking: one MR×NR int32 tile of partial sums per MR tile
thread_local ScratchBuffer<int32_t> t_rowi;  // ZA' then row sums
thread_local ScratchBuffer<float> t_rowf;    // per-row scales
thread_local ScratchBuffer<int32_t> t_coli;  // per-tensor A zero point: −ZA'·colcorr_j per column (colterm)
thread_local ScratchBuffer<float> t_colf;    // per-tensor A scale: sa·sb_j per column (sab)

void s8_gemm_task(const S8GemmVariant& v, const S8GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1) {
  const size_t mr = v.mr, nr = v.nr, kpad = s8_round_up(g.k, v.kstep);
  const size_t mc_max = s8_gemm_mc(v, kpad);
  const size_t mc_cap = std::min(mc_max, s8_round_up(m1 - m0, mr));
  uint8_t* ap = t_apack.get(packed_a_s8_bytes(v, mc_cap, kpad));
  int32_t* za = t_rowi.get(2 * mc_cap);
  int32_t* rs = za + mc_cap;
  float* sa = t_rowf.get(mc_cap);
  const size_t kc = s8_gemm_kc(v, kpad, g.kc_max ? g.kc_max : s8_gemm_kc_max());
  int32_t* kacc = kc < kpad ? t_kacc.get(mc_cap * nr) : nullptr;
  const bool need_scales = g.out != kS8OutI32;
  const int32_t oa = s8_a_offset(v, g.a_unsigned);
  const size_t esize = s8_gemm_out_bytes(g.out);
  const S8GemmEpilogue base = s8_gemm_epilogue(g);
  // A is packed, but for short rows (`direct` below): measured here, reading u8 rows in place (no packing pass) was
  // slower than packing them (broadcasts from MR separate row streams versus one contiguous tile stream).
  const uint8_t* a_bytes = static_cast<const uint8_t*>(g.a);
  // A per-tensor zero point / scale (the ONNX dynamic-int8 graphs): the per-row terms of the epilogue taken once
  // per column here (colterm, sab), which saves a vpmulld and a multiply per accumulator of every tile.
  // SIMDTENSOR_S8_COLTERM=0 (read once) turns it off, for A/B runs.
  static const bool colterms = env_size("SIMDTENSOR_S8_COLTERM", 1) != 0;
  const bool za_tensor = colterms && (!g.a_zero || g.a_zero_stride == 0);
  const bool sa_tensor = colterms && need_scales && g.a_scale_stride == 0;
  int32_t* colterm = za_tensor ? t_coli.get(n1 - n0) : nullptr;
  float* sab = sa_tensor ? t_colf.get(n1 - n0) : nullptr;
  if (za_tensor) {
    const uint32_t zt = uint32_t(g.a_zero ? g.a_zero[0] : 0) + uint32_t(oa);
    for (size_t j = n0; j < n1; j++) colterm[j - n0] = int32_t(0u - zt * uint32_t(g.colcorr[j]));
  }
  if (sa_tensor)
    for (size_t j = n0; j < n1; j++) sab[j - n0] = g.a_scale[0] * g.b_scale[j];
  // Full MR-row tiles read A's rows in place (S8GemmEpilogue::a_lda) where the bytes need no change: no sign flip
  // (oa = 0: u8 rows on the u8 kernels, s8 rows on NEON sdot), K a whole number of 4-byte groups, no row sums (zb) and
  // no K blocking, on the kernels written over s8_gemm_tile (kGroups, k-groups of 4, K step 4). Packing was ~10 % of
  // an int8 pointwise conv at K = 32–240 (rec: 3840×32 → 64, 960×240 → 240): a pass over A with 4×4 transposes,
  // while rows read in place sit a few cache lines apart when K is short. Up to kS8DirectAMaxK only: at long K the
  // MR rows are MR separate streams, which measured slower than the packed tile's one stream (see above).
  // SIMDTENSOR_S8_DIRECT_A=0 (read once) packs every tile, for A/B runs.
  static const bool direct_on = env_size("SIMDTENSOR_S8_DIRECT_A", 1) != 0;
  const bool direct = direct_on && v.a_layout == S8ALayout::kGroups && v.kgroup == 4 && v.kstep == 4 && oa == 0 &&
                      !g.zb && kc == kpad && g.k == kpad && kpad <= kS8DirectAMaxK;
  if (v.begin) v.begin();
  for (size_t ic = m0; ic < m1; ic += mc_max) {
    const size_t mc = std::min(mc_max, m1 - ic);
    const size_t mdirect = direct ? mc / mr * mr : 0;  // rows read in place; the rest packed at their usual offset
    if (mdirect < mc)
      pack_a_s8(v, a_bytes + (ic + mdirect) * g.lda, g.a_unsigned, g.lda, mc - mdirect, g.k, kpad,
                ap + mdirect * kpad, g.zb ? rs + mdirect : nullptr);
    for (size_t i = 0; i < mc; i++) {
      const int32_t z = g.a_zero ? g.a_zero[(ic + i) * g.a_zero_stride] : 0;
      za[i] = int32_t(uint32_t(z) + uint32_t(oa));
      if (need_scales) sa[i] = g.a_scale[(ic + i) * g.a_scale_stride];
    }
    for (size_t j = n0; j < n1; j += nr) {
      const int8_t* bp = g.b_panels + (j / nr) * nr * kpad;
      const size_t nv = std::min(nr, n1 - j);
      S8GemmEpilogue ep = s8_gemm_epilogue_at(base, g, j);
      ep.colterm = colterm ? colterm + (j - n0) : nullptr;
      ep.sab = sab ? sab + (j - n0) : nullptr;
      for (size_t k0 = 0, last = 0; !last; k0 += kc) {  // runs once at K = 0 (the epilogue alone)
        const size_t kb = std::min(kc, kpad - k0);
        last = k0 + kb == kpad;
        for (size_t i = 0; i < mc; i += mr) {
          ep.za = za + i;
          ep.rs = rs + i;
          ep.sa = sa + i;
          int32_t* part = kacc ? kacc + i * nr : nullptr;
          ep.acc_in = k0 ? part : nullptr;
          ep.out = last ? g.out : int(kS8OutAcc);
          ep.a_lda = i < mdirect ? g.lda : 0;
          const uint8_t* at = i < mdirect ? a_bytes + (ic + i) * g.lda : ap + i * kpad + k0 * mr;
          void* c = last ? static_cast<void*>(static_cast<char*>(g.c) + ((ic + i) * g.ldc + j) * esize) : part;
          v.ukernel(std::min(mr, mc - i), nv, kb, at, bp + k0 * nr, c, g.ldc, &ep);
        }
      }
    }
  }
  if (v.end) v.end();
}
}  // namespace

void s8_gemm_run(const S8GemmVariant& v, const S8GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  // A few rows: the small-M kernel over the same panels (no A tiles; extra accumulator sets at M = 1).
  if (const S8GemvVariant* sv = s8_gemv_for_m(v, g.m)) return s8_gemv_gemm_run(*sv, v, g);
  s8_gemm_run_tiles(v, g);
}

void s8_gemm_run_tiles(const S8GemmVariant& v, const S8GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  // The shared task grid (runtime/core/gemm_partition.h): below ~4 MOP one task, else up to 8 per thread, M first.
  const GemmGrid grid = gemm_grid(g.m, g.n, 2.0 * double(g.m) * double(g.n) * double(g.k), v.mr, v.nr, 2 * v.mr,
                                  size_t(num_threads()), 4e6);
  const size_t tm = grid.tm, tn = grid.tn, rows_per = grid.rows_per, panels_per = grid.cols_per / v.nr;
  parallel_for(tm * tn, [&](size_t t) {
    const size_t im = t / tn, in = t % tn;
    const size_t m0 = im * rows_per, m1 = std::min(g.m, m0 + rows_per);
    const size_t n0 = in * panels_per * v.nr, n1 = std::min(g.n, n0 + panels_per * v.nr);
    if (m0 < m1 && n0 < n1) s8_gemm_task(v, g, m0, m1, n0, n1);
  });
}

}  // namespace simdtensor
