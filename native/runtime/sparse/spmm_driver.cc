// Sparse-weight linear driver. xt path: x is transposed once into M tiles [k_padded][nv·W] (zero-padded), then
// tasks = (M tile, chunk of weight rows), tile-major so one tile's xt stays in L2 while the weight rows stream;
// each task's kernel writes a small outt tile [rows][nv·W] that is transposed into out. Row path (M <= a few):
// the row kernels write out directly, then a vector epilogue adds bias and the activation.
#include "runtime/sparse/spmm_driver.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/dispatch.h"
#include "kernels/f32-transpose/f32-transpose.h"
#include "runtime/core/aligned.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/core/parallel.h"

namespace simdtensor {

namespace {

thread_local ScratchBuffer<float> t_xt;
thread_local ScratchBuffer<float> t_outt;
thread_local ScratchBuffer<float> t_xpad;

// N:M from this M on runs the panel kernel (where the variant has one) instead of the row and xt kernels: on
// AVX-512 it beat the row kernels at M = 1 and 2 too (2:4, 4096², {out}, same-run ratios to dense, load ~11:
// 1.64/2.10× against 1.44/1.04× at M = 1, 2.01/2.09× against 1.31/1.42× at M = 2).
constexpr size_t kNmPanelMinM = 1;

constexpr size_t kRowsPerTask = 64;      // xt path: weight rows per task (rounded up to a multiple of bh)
constexpr size_t kRowsPerTaskRow = 256;  // row path
constexpr size_t kTransposeK = 64;       // k rows per transpose step (a 64 × 64 float tile stays in L1)

size_t rows_multiple(size_t rows, size_t bh) { return (rows + bh - 1) / bh * bh; }

size_t bsr_rows_per_group(size_t bh) { return bh % 4 == 0 ? 4 : (bh % 2 == 0 ? 2 : 1); }

// CSR: the xt tile (k_padded × M-tile floats) kept to about half of a 1 MiB L2, so the weight stream does not push
// it out: at K = 4096 that is a 32-float M tile instead of 64. Measured at 64×4096×4096, one thread, same-run pairs
// under load (docs/sparse.md): CSR 70 % 1.16–1.38× → 1.39–1.61× our dense, 90 % about even; N:M lost with the
// narrower tile and keeps max_nv.
constexpr size_t kCsrXtBytes = size_t(512) << 10;

// Chunked CSR (F32CsrChunks): the xt rows of one K block of a full M tile (kb · max_nv·W floats) fit in this many
// bytes, so they stay in L1 while the group's chunks walk the block; the group's outt tile (rows × max_nv·W) holds
// the partial sums between blocks, so groups are small enough to leave L1 room for both.
constexpr size_t kCsrChunkBlockBytes = size_t(32) << 10;
constexpr size_t kCsrChunkRows = 32;
// Below this density a row's segment in a K block is short (about 13 values at 90 % sparsity and 128 columns), so
// the padding of its last chunk costs about what the L1 reads save. AVX-512: at 90 % the two kernels measured even,
// at 93 % and sparser the per-row kernel won (93 %: 5.3–6.1× dense against 4.5×), at 80–85 % the chunked kernel won
// by 15–30 % at M = 64 and 256 (80 %: 2.5–2.8× against 2.0–2.3×; docs/sparse.md); 0.2, measured only at 70 % and
// 90 %, had kept 80–89 % on the per-row kernel; below 0.11 the pack takes the longer blocks below instead. AVX2
// (capped on the same CPU) lost 4–8 % chunked at 80–85 % and keeps 0.2.
constexpr double kCsrChunkMinDensityAvx512 = 0.11;
constexpr double kCsrChunkMinDensity = 0.2;
// 90–93 % sparse on AVX-512 (sp90): blocks of 192 columns (24 KiB of a 32-float M tile: the chunked kernel runs
// two zmm of M per chunk) and groups of up to 256 rows. Segments are 1.5× as long as in a 128-column block (about
// 19 values at 90 %), so their last chunk's padding weighs less, and a block's xt rows, fetched from L2 once per
// group, serve 8× as many chunks as with 32-row groups. At 64×4096×4096 (docs/sparse.md) 90 % ran 2.6–2.8 ms where
// the per-row kernel (every xt operand from L2) took 3.3–3.9 ms; M = 1 0.59–0.61 ms against 0.63–0.67 (128-row
// groups: even; 32: slower). At 96 % the chunked form measured even at M = 64 and slower at M = 1, so sparser
// weights keep the per-row kernel.
constexpr double kCsrChunkSparseMinDensity = 0.065;
constexpr size_t kCsrChunkSparseBlockBytes = size_t(24) << 10;
constexpr size_t kCsrChunkSparseNv = 2;
constexpr size_t kCsrChunkSparseRows = 256;
constexpr size_t kCsrChunkSparseMinGroups = 16;  // but at least this many groups where N allows (tasks for threads)

bool csr_chunk_sparse(const F32SpmmVariant& v, const F32SparseView& w) {
  const double nnz = double(w.nnz_stored), dense = double(w.n) * double(w.k);
  return v.isa == Isa::kAvx512 && nnz < kCsrChunkMinDensityAvx512 * dense && nnz >= kCsrChunkSparseMinDensity * dense;
}

// The sp90 pack takes the segment layout (F32CsrChunks): one outt read and write per row segment (≈ 19 values at
// 90 % and 192 columns) instead of per chunk of 8, and at most one padded slot per segment instead of up to 4. At
// 64×4096×4096, 90 %, one thread (docs/sparse.md, fifth pass): medians of alternated process pairs 4.72× dense
// against 4.26× with chunks and tails (quiet), 4.69–5.14× against 4.23–4.57× at load 2–6. At 70–89 % (kb 128,
// 4 zmm, 32-row groups) segments measured slower (80 %: 2.29× against 2.50×), so those packs keep chunks and tails.
size_t csr_chunk_seg(const F32SpmmVariant& v, const F32SparseView& w) {
  if (!csr_chunk_sparse(v, w)) return 0;
  return kCsrSegMax;
}

// Vectors of M per tile of the chunked kernel: as many as keep a K block's xt rows (kb of them) within
// kCsrChunkBlockBytes, so kb = 128 runs 4 zmm and kb = 192 two.
size_t chunk_nv(const F32SpmmVariant& v, size_t kb) {
  return std::max<size_t>(1, std::min(v.max_nv, kCsrChunkBlockBytes / (4 * v.w * std::max<size_t>(1, kb))));
}

// Vectors of M per xt tile for this variant and format (block kernels keep RB·nv accumulators live).
size_t tile_nv(const F32SpmmVariant& v, const F32SparseView& w) {
  if (w.fmt == SparseFormat::kCsr) {
    const size_t floats = kCsrXtBytes / (4 * std::max<size_t>(1, w.k_padded()));
    return std::max<size_t>(1, std::min(v.max_nv, floats / v.w));
  }
  if (w.fmt != SparseFormat::kBsr) return v.max_nv;
  return std::max<size_t>(1, std::min(v.max_nv, v.acc_regs / bsr_rows_per_group(w.bh)));
}

// Below this much work (multiply-adds) threads are not woken.
constexpr double kParallelMinWork = 2e5;

template <class F>
void run_tasks(size_t n, double work, F&& f) {
  if (work < kParallelMinWork || num_threads() == 1) {
    for (size_t i = 0; i < n; i++) f(i);
  } else {
    parallel_for(n, f);
  }
}

// Whether the variant has a chunked CSR kernel for this M (the ymm one where M <= narrow_w).
bool chunk_kernel_for(const F32SpmmVariant& v, size_t m) {
  return v.csr_chunks && (!v.narrow_w || m > v.narrow_w || v.csr_chunks_narrow);
}

// Returns the name of the chunked CSR kernel when it ran, else null.
const char* run_xt(const F32SpmmVariant& v, const F32SpmmArgs& a) {
  const F32SparseView& w = *a.w;
  const size_t M = a.m, K = w.k, kp = w.k_padded();
  const bool narrow = v.narrow_w && M <= v.narrow_w;
  const F32CsrChunks* ck = nullptr;
  std::shared_ptr<F32CsrChunkPack> ck_local;
  if (w.fmt == SparseFormat::kCsr && chunk_kernel_for(v, M) && w.k) {
    if (a.chunks) {
      ck = a.chunks;  // the caller's pack (tests may give any kb and rows)
    } else if (const size_t kb = f32_spmm_csr_chunk_kb(v, w, M)) {
      ck_local = f32_csr_pack_chunks(w, kb, f32_spmm_csr_chunk_rows(v, w), csr_chunk_seg(v, w));
      ck = &ck_local->view;
    }
  }
  const size_t W = narrow ? v.narrow_w : v.w;
  const size_t nv_max = narrow ? 1 : (ck ? chunk_nv(v, ck->kb) : tile_nv(v, w)), MT = nv_max * W;
  const F32SpmmXtFn fn = narrow ? v.xt_narrow[int(w.fmt)] : v.xt[int(w.fmt)];
  const F32SpmmCsrChunkFn ck_fn = narrow ? v.csr_chunks_narrow : v.csr_chunks;
  const size_t tiles = (M + MT - 1) / MT;
  std::vector<size_t> tile_off(tiles + 1, 0);
  auto tile_nvs = [&](size_t t) { return (std::min(MT, M - t * MT) + W - 1) / W; };
  // Chunked CSR: xt rows in blocks of kb + 1, the last row of each block zero (the chunks' padding reads it).
  const size_t xrows = ck ? ck->blocks * (ck->kb + 1) : kp;
  auto xrow = [&](size_t k) { return ck ? k + k / ck->kb : k; };
  for (size_t t = 0; t < tiles; t++) tile_off[t + 1] = tile_off[t] + xrows * tile_nvs(t) * W;
  float* xt = t_xt.get(tile_off[tiles]);
  const double work = double(w.nnz_stored) * double(M);

  // x → xt, zero-padded past M (columns) and past K (rows), with the transpose kernel (16×16 register tiles on
  // AVX-512) over runs of k that stay inside one chunk block (the block's xt rows are contiguous).
  const F32TransposeVariant& tv = f32_transpose_table.select();
  const size_t kchunks = (kp + kTransposeK - 1) / kTransposeK;
  run_tasks(tiles * kchunks, double(M) * double(kp) * 4, [&](size_t task) {
    const size_t t = task / kchunks, k0 = (task % kchunks) * kTransposeK, k1 = std::min(kp, k0 + kTransposeK);
    const size_t m0 = t * MT, mt = std::min(MT, M - m0), ld = tile_nvs(t) * W;
    float* dst = xt + tile_off[t];
    const size_t kv = std::min(k1, K);
    for (size_t k = k0; k < kv;) {
      const size_t ke = ck ? std::min(kv, (k / ck->kb + 1) * ck->kb) : kv;
      float* d = dst + xrow(k) * ld;
      tv.run(mt, ke - k, a.x + m0 * a.ldx + k, a.ldx, d, ld);
      if (mt < ld)
        for (size_t j = 0; j < ke - k; j++) std::memset(d + j * ld + mt, 0, (ld - mt) * sizeof(float));
      k = ke;
    }
    for (size_t k = std::max(k0, K); k < k1; k++) std::memset(dst + xrow(k) * ld, 0, ld * sizeof(float));
  });
  if (ck)
    for (size_t t = 0; t < tiles; t++)
      for (size_t b = 0; b < ck->blocks; b++) {
        const size_t ld = tile_nvs(t) * W;
        std::memset(xt + tile_off[t] + (b * (ck->kb + 1) + ck->kb) * ld, 0, ld * sizeof(float));
      }

  const size_t rows_per = ck ? ck->rows : rows_multiple(kRowsPerTask, w.bh);
  const size_t chunks = (w.n + rows_per - 1) / rows_per;
  run_tasks(tiles * chunks, work, [&](size_t task) {
    const size_t t = task / chunks, r0 = (task % chunks) * rows_per, r1 = std::min(w.n, r0 + rows_per);
    const size_t nv = tile_nvs(t), ld = nv * W, m0 = t * MT, mt = std::min(MT, M - m0);
    float* outt = t_outt.get(rows_multiple(rows_per, w.bh) * ld);
    if (ck) {
      // The chunked kernels accumulate into outt: it starts as the bias (row r's lanes all bias[r]), and the
      // activation runs over the L1-resident tile before the transpose, not over the output rows after it.
      if (a.bias)
        for (size_t r = r0; r < r1; r++) std::fill_n(outt + (r - r0) * ld, ld, a.bias[r]);
      else
        std::memset(outt, 0, (r1 - r0) * ld * sizeof(float));
      for (size_t b = 0; b < ck->blocks; b++)
        ck_fn(*ck, r0 / ck->rows, b, xt + tile_off[t] + b * (ck->kb + 1) * ld, nv, outt, ld);
      if (a.act) v.epilogue(outt, (r1 - r0) * ld, nullptr, a.act);
    } else {
      fn(w, r0, r1, xt + tile_off[t], nv, outt, ld, a.bias, a.act);
    }
    tv.run(r1 - r0, mt, outt, ld, a.out + m0 * a.ldo + r0, a.ldo);
  });
  return ck ? (narrow ? v.csr_chunks_narrow_name : v.csr_chunks_name) : nullptr;
}

// N:M panel path: K in blocks whose weights for one panel (gb·n·nr floats, about 16 KiB) stay in L1 while every
// M tile of the block uses them; M in chunks of 64 rows so the block of x the panels reread stays in L2.
constexpr size_t kPanelBlockBytes = size_t(16) << 10;
constexpr size_t kPanelRowsPerTask = 128;
constexpr size_t kPanelMChunk = 64;

bool panel_ok(const F32SpmmVariant& v, const F32SparseView& w) {
  return w.fmt == SparseFormat::kNm && v.nm_panel && w.nm_m <= v.panel_max_m;
}

void run_panel(const F32SpmmVariant& v, const F32SpmmArgs& a) {
  const F32SparseView& w = *a.w;
  std::shared_ptr<F32NmPanelPack> local;
  const F32NmPanels* pk = a.panels;
  if (!pk || pk->nr != v.panel_nr) {
    local = f32_nm_pack_panels(w, v.panel_nr);
    pk = &local->view;
  }
  const size_t M = a.m, G = pk->groups(), P = pk->panels();
  // One M tile reads each weight once: no K blocks then (one sequential stream per panel for the prefetchers).
  const size_t gb = M <= 8 ? std::max<size_t>(G, 1) : std::max<size_t>(8, kPanelBlockBytes / (4 * pk->nn * pk->nr) / 8 * 8);
  const size_t ppt = std::max<size_t>(1, kPanelRowsPerTask / pk->nr), chunks = (P + ppt - 1) / ppt;
  run_tasks(chunks, double(w.nnz_stored) * double(M), [&](size_t c) {
    const size_t p0 = c * ppt, p1 = std::min(P, p0 + ppt);
    for (size_t g0 = 0;; g0 += gb) {
      const size_t g1 = std::min(G, g0 + gb);
      for (size_t i0 = 0; i0 < M; i0 += kPanelMChunk)
        v.nm_panel(*pk, p0, p1, g0, g1, a.x + i0 * a.ldx, a.ldx, std::min(kPanelMChunk, M - i0), a.out + i0 * a.ldo,
                   a.ldo, a.bias, a.act, g0 == 0, g1 == G);
      if (g1 >= G) break;
    }
  });
}

void run_row(const F32SpmmVariant& v, const F32SpmmArgs& a) {
  const F32SparseView& w = *a.w;
  const size_t M = a.m, kp = w.k_padded();
  const float* x = a.x;
  size_t ldx = a.ldx;
  if (kp != w.k) {
    // Block kernels read whole blocks: give them zero-padded rows.
    float* xp = t_xpad.get(M * kp);
    for (size_t i = 0; i < M; i++) {
      std::memcpy(xp + i * kp, a.x + i * a.ldx, w.k * sizeof(float));
      std::memset(xp + i * kp + w.k, 0, (kp - w.k) * sizeof(float));
    }
    x = xp;
    ldx = kp;
  }
  const size_t rows_per = rows_multiple(kRowsPerTaskRow, w.bh);
  const size_t chunks = (w.n + rows_per - 1) / rows_per;
  run_tasks(chunks, double(w.nnz_stored) * double(M), [&](size_t c) {
    const size_t r0 = c * rows_per, r1 = std::min(w.n, r0 + rows_per);
    for (size_t i0 = 0; i0 < M; i0 += 4)
      v.row[int(w.fmt)](w, r0, r1, x + i0 * ldx, ldx, std::min<size_t>(4, M - i0), a.out + i0 * a.ldo, a.ldo);
    for (size_t i = 0; i < M; i++) v.epilogue(a.out + i * a.ldo + r0, r1 - r0, a.bias ? a.bias + r0 : nullptr, a.act);
  });
}

// Crossover, measured (bench/sparse.ts, docs/sparse.md): per ISA family and M, the highest density (stored values
// / (N·K)) at which the sparse kernel still beats our dense GEMM. Rows are looked up by the first m_max >= M.
// Blocks split by height: bh >= 4 shares each activation load across rows (cheap), bh < 4 does not.
struct CrossoverRow {
  size_t m_max;
  double csr, bsr_flat, bsr_tall, nm;
};
// N:M: with the panel kernel 2:4 (density 0.5) beats dense at every M measured (1.2× at M = 256 to 2× at M <= 8).
const CrossoverRow kCrossAvx512[] = {
    {1, 0.55, 0.70, 0.45, 0.55},
    {8, 0.36, 0.42, 0.50, 0.55},
    {128, 0.40, 0.37, 0.65, 0.55},
    {SIZE_MAX, 0.35, 0.30, 0.65, 0.55},
};
// AVX2, NEON and scalar were not swept on their own hardware here: the AVX-512 figures stand in for them.
// CSR at M = 1 where the weights are held chunked (density >= 0.2, or >= 0.11 with K past one block, on AVX-512):
// the chunked kernels spend a vector load and an FMA per stored weight for one useful lane, and measured slower than
// dense from 75 % sparsity down (4096², {out}, same-process CPU-time ratios, docs/sparse.md: 70 % 0.66–0.86×, 75 %
// 0.80–0.90×, 80 % 0.95–1.43×), so M = 1 runs sparse only from 78 % up.
constexpr double kCsrChunkedM1MaxDensity = 0.22;

}  // namespace

size_t f32_spmm_csr_chunk_kb(const F32SpmmVariant& v, const F32SparseView& w, size_t m) {
  if (w.fmt != SparseFormat::kCsr || !chunk_kernel_for(v, m) || w.k == 0) return 0;
  const size_t kb = std::min<size_t>(255, std::max<size_t>(1, kCsrChunkBlockBytes / (4 * v.max_nv * v.w)));
  const double nnz = double(w.nnz_stored), dense = double(w.n) * double(w.k);
  if (nnz >= kCsrChunkMinDensity * dense) return kb;
  // 80–89 % sparse (AVX-512 only): measured faster at 4096 × 4096, i.e. K over many blocks. With K in one block the
  // per-row kernel's xt rows already sit in L1, so the chunked copy (a second copy of the weights, kept beside CSR)
  // would buy nothing and double the layer's memory: small layers stay on the per-row kernel.
  if (v.isa == Isa::kAvx512 && nnz >= kCsrChunkMinDensityAvx512 * dense && w.k > kb) return kb;
  if (csr_chunk_sparse(v, w)) {
    const size_t kbs = std::min<size_t>(255, kCsrChunkSparseBlockBytes / (4 * kCsrChunkSparseNv * v.w));
    if (w.k > kbs) return kbs;
  }
  return 0;
}

size_t f32_spmm_csr_chunk_rows(const F32SpmmVariant& v, const F32SparseView& w) {
  if (!csr_chunk_sparse(v, w)) return kCsrChunkRows;
  const size_t rows = w.n / kCsrChunkSparseMinGroups / kCsrChunkRows * kCsrChunkRows;
  return std::min(kCsrChunkSparseRows, std::max(kCsrChunkRows, rows));
}

SpmmPath f32_spmm_auto_path(const F32SpmmVariant& v, const F32SparseView& w, size_t m) {
  // Measured on AVX-512 (docs/sparse.md): the row kernels win at M = 1, and up to M = 2 where a row's weights are
  // read as contiguous vectors (N:M windows, blocks at least 8 wide); from there the xt kernels (ymm up to M = 8).
  const bool wide = w.fmt == SparseFormat::kNm || (w.fmt == SparseFormat::kBsr && w.bw >= 8);
  if (m >= kNmPanelMinM && panel_ok(v, w)) return SpmmPath::kPanel;
  // CSR that the chunked kernels run goes to them at every M: its weights are kept in that form only.
  if (f32_spmm_csr_chunk_kb(v, w, m)) return SpmmPath::kXt;
  if (m <= (wide ? 2u : 1u)) return SpmmPath::kRow;
  return SpmmPath::kXt;
}

const char* f32_spmm_kernel_name(const F32SpmmVariant& v, const F32SparseView& w, SpmmPath path, size_t m) {
  const int fmt = int(w.fmt);
  if (path == SpmmPath::kRow) return v.row_name[fmt];
  if (path == SpmmPath::kPanel) return v.nm_panel_name;
  const bool narrow = v.narrow_w && m <= v.narrow_w;
  if (f32_spmm_csr_chunk_kb(v, w, m)) return narrow ? v.csr_chunks_narrow_name : v.csr_chunks_name;
  return narrow ? v.xt_narrow_name[fmt] : v.xt_name[fmt];
}

const char* f32_spmm_run(const F32SpmmVariant& v, const F32SpmmArgs& a, SpmmPath path) {
  const F32SparseView& w = *a.w;
  if (path == SpmmPath::kAuto) path = f32_spmm_auto_path(v, w, a.m);
  if (path == SpmmPath::kPanel && !panel_ok(v, w)) path = SpmmPath::kXt;
  const char* name = f32_spmm_kernel_name(v, w, path, a.m);
  if (a.m == 0 || w.n == 0) return name;
  if (path == SpmmPath::kRow) run_row(v, a);
  else if (path == SpmmPath::kPanel) run_panel(v, a);
  else if (const char* ck = run_xt(v, a)) return ck;  // a caller's pack (tests) may choose it where auto would not
  return name;
}

double f32_spmm_max_density(const F32SpmmVariant& v, const F32SparseView& w, size_t m) {
  const CrossoverRow* r = kCrossAvx512;
  while (r->m_max < m) r++;
  if (w.fmt == SparseFormat::kCsr) {
    // Weights held in the chunked form run M = 1 on a chunked xt kernel, not the gather row kernel the table's
    // 0.55 was measured on.
    if (m <= 1 && chunk_kernel_for(v, 1) && f32_spmm_csr_chunk_kb(v, w, SIZE_MAX))
      return std::min(r->csr, kCsrChunkedM1MaxDensity);
    return r->csr;
  }
  if (w.fmt == SparseFormat::kNm) return r->nm;
  return w.bh >= 4 ? r->bsr_tall : r->bsr_flat;
}

bool f32_spmm_prefer_dense(const F32SpmmVariant& v, const F32SparseView& w, size_t m) {
  if (w.n == 0 || w.k == 0) return false;
  const double density = double(w.nnz_stored) / (double(w.n) * double(w.k));
  return density > f32_spmm_max_density(v, w, m);
}

namespace {

// Whether a sparse call at this M runs the chunked CSR kernel on the weights' chunk pack (made by the call when
// there is none): where the variant has a chunked kernel for M and either a pack exists or the density and shape
// call for one at the full M tile (the choice must not depend on M, so that one form serves every M).
bool runs_chunked(const F32SpmmVariant& v, const F32SparseWeights& w, size_t m) {
  const F32SparseView& s = w.shape();
  if (s.fmt != SparseFormat::kCsr || !chunk_kernel_for(v, m) || s.k == 0) return false;
  return w.has_chunks() || f32_spmm_csr_chunk_kb(v, s, SIZE_MAX) != 0;
}

bool linear_dense(const F32SpmmVariant& v, const F32SparseWeights& w, size_t m, SparseMode mode) {
  return mode == SparseMode::kDense || (mode == SparseMode::kAuto && f32_spmm_prefer_dense(v, w.shape(), m));
}

}  // namespace

const char* f32_sparse_kernel_for(const F32SparseWeights& w, size_t m, SparseMode mode) {
  const F32SpmmVariant& v = f32_spmm_table.select();
  if (linear_dense(v, w, m, mode)) return f32_gemm_table.select().name;
  if (runs_chunked(v, w, m)) return v.narrow_w && m <= v.narrow_w ? v.csr_chunks_narrow_name : v.csr_chunks_name;
  return f32_spmm_kernel_name(v, w.shape(), f32_spmm_auto_path(v, w.shape(), m), m);
}

const char* f32_sparse_linear(const F32SparseLinearArgs& a) {
  const F32SparseView& shape = a.w->shape();
  const F32SpmmVariant& v = f32_spmm_table.select();
  if (linear_dense(v, *a.w, a.m, a.mode)) {
    const F32GemmVariant& g = f32_gemm_table.select();
    if (a.m == 0 || shape.n == 0) return g.name;
    auto packed = a.w->dense_packed(g.nr);
    F32GemmArgs ga{a.m, shape.n, shape.k, a.x, shape.k, packed->panels(g.nr), a.out, shape.n, a.bias, a.act};
    f32_gemm_run(g, ga);
    return g.name;
  }
  if (runs_chunked(v, *a.w, a.m)) {
    // kb as this variant chooses it at its full M tile; a pack made under another ISA cap keeps its own kb (every
    // chunked kernel runs any kb).
    const size_t kb = std::max<size_t>(1, f32_spmm_csr_chunk_kb(v, shape, SIZE_MAX));
    std::shared_ptr<F32CsrChunkPack> chunks =
        a.w->chunks_only(kb, f32_spmm_csr_chunk_rows(v, shape), csr_chunk_seg(v, shape));
    F32SpmmArgs sa{&shape, a.m, a.x, shape.k, a.out, shape.n, a.bias, a.act};
    sa.chunks = &chunks->view;
    return f32_spmm_run(v, sa, SpmmPath::kXt);
  }
  std::shared_ptr<const F32SparseArrays> arr = a.w->arrays();
  const F32SparseView& w = arr->view;
  F32SpmmArgs sa{&w, a.m, a.x, w.k, a.out, w.n, a.bias, a.act};
  const SpmmPath path = f32_spmm_auto_path(v, w, a.m);
  std::shared_ptr<F32NmPanelPack> panels;
  if (path == SpmmPath::kPanel && a.m != 0 && w.n != 0) {
    panels = a.w->nm_panels(v.panel_nr);
    sa.panels = &panels->view;
  }
  return f32_spmm_run(v, sa, path);
}

}  // namespace simdtensor
