// f32 sparse-weight matmul family (out = act(x·wᵀ + bias), w sparse [N×K]): weight views, kernel signatures,
// the variant table entries and the scalar reference.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum class SparseFormat : int {
  kCsr = 0,  // row_ptr[N+1], col[nnz] (u16 when K <= 65536, else u32), val[nnz]
  kBsr = 1,  // bh×bw blocks: row_ptr[ceil(N/bh)+1] over blocks, col[nblocks] = block column (k0 / bw),
             // val[nblocks][bh][bw] row-major; edge blocks past N or K hold zeros
  kNm = 2,   // at most n of every m consecutive k: per row K/m groups × n slots; val[N][K/m·n];
             // nib[N][ceil(K/m·n / 2)]: slot offsets within the group, two 4-bit offsets per byte (low first)
};

// A read-only view of validated sparse weights (see runtime/sparse/weights.h for the owner and validation).
struct F32SparseView {
  SparseFormat fmt = SparseFormat::kCsr;
  size_t n = 0, k = 0;          // dense shape [n, k] = [out, in]
  const uint32_t* ptr = nullptr;  // CSR: per row; BSR: per block row
  const void* idx = nullptr;      // CSR column / BSR block column
  bool idx16 = false;             // idx is uint16_t (else uint32_t)
  const float* val = nullptr;
  size_t bh = 1, bw = 1;          // BSR block
  size_t nm_n = 0, nm_m = 0;      // N:M
  const uint8_t* nib = nullptr;   // N:M offsets
  size_t nnz_stored = 0;          // stored values (CSR nnz; BSR blocks·bh·bw; N:M N·K/m·n)
  // Rows of K the kernels may touch in a padded activation: K rounded up to bw (BSR) or K.
  size_t k_padded() const { return fmt == SparseFormat::kBsr ? (k + bw - 1) / bw * bw : k; }
  size_t nm_groups() const { return nm_m ? k / nm_m : 0; }
  size_t nm_row_bytes() const { return (nm_groups() * nm_n + 1) / 2; }
};

// Transposed-activation kernel ("xt"): for rows r in [r0, r1) (r0 a multiple of bh for BSR),
//   outt[(r - r0)·ldt + i] = act(bias[r] + Σ_k w[r][k] · xt[k·nv·W + i]),  i < nv·W,
// where xt is one M tile of the activation, transposed: [k_padded][nv·W] (columns past M are zero).
// For BSR the last block row may write rows up to its block end (past N): outt must have room for them.
using F32SpmmXtFn = void (*)(const F32SparseView& w, size_t r0, size_t r1, const float* xt, size_t nv, float* outt,
                             size_t ldt, const float* bias, int act);
// CSR repacked for the chunked xt kernel: rows in groups of `rows`, K in blocks of kb columns, and each row's
// stored values in a block cut into chunks of kCsrChunk; a remainder of 1..kCsrTail values goes into a tail chunk
// of kCsrTail slots instead (a list of its own), larger ones into one more full chunk. Unused slots hold zero
// weights that point at the block's zero xt row, so padding never reads an activation. A group's chunks for one
// block are listed row-round-robin (every row's first chunk, then every second chunk, ...), so consecutive chunks
// rarely share an output row. The kernel walks flat lists of fixed-size chunks per (group, block): no per-row loop
// whose exit mispredicts.
//
// Segment layout (seg_max > 0; no chunks or tails then): each row's values in a block are one segment (cut into
// pieces of seg_max where longer), padded to an even length L (one zero slot at most), and the segments of one
// (group, block) are listed by L, L = 2 .. seg_max (list l = (g·blocks + b)·seg_max/2 + L/2 − 1). The kernel runs
// each list with L known at compile time: a segment's accumulators stay in registers over its L slots and its row's
// outt vectors are read and written once per segment instead of once per chunk, without a per-row loop exit.
constexpr size_t kCsrChunk = 8;
constexpr size_t kCsrTail = 4;
constexpr size_t kCsrSegMax = 32;
constexpr size_t kCsrSegSlack = 16;  // off/val hold this many slots past the last segment (whole-vector loads)
struct F32CsrChunks {
  size_t n = 0, k = 0, kb = 0, blocks = 0, rows = 0, groups = 0;  // kb <= 255, rows <= 256
  size_t seg_max = 0;               // segment layout: longest segment (even, <= kCsrSegMax); 0: chunks and tails
  const uint32_t* sptr = nullptr;   // [lists + 1]: segments of list l are [sptr[l], sptr[l + 1])
  const uint32_t* sbase = nullptr;  // [lists + 1]: first slot of list l in off / val
  const uint8_t* srow = nullptr;    // [segments]: the segment's row within its group
  const uint32_t* cptr = nullptr;  // [groups·blocks + 1]: chunks of group g, block b are [cptr[g·blocks + b], +1)
  const uint8_t* crow = nullptr;   // [chunks]: the chunk's row within its group
  const uint8_t* off = nullptr;    // [chunks][kCsrChunk] (segments: [slots]): column within the block; kb = zero row
  const float* val = nullptr;      // [chunks][kCsrChunk] (segments: [slots])
  const uint32_t* tptr = nullptr;  // tail chunks, the same way: [groups·blocks + 1]
  const uint8_t* trow = nullptr;   // [tails]
  const uint8_t* toff = nullptr;   // [tails][kCsrTail]
  const float* tval = nullptr;     // [tails][kCsrTail]
  size_t chunks() const { return cptr ? cptr[groups * blocks] : 0; }
  size_t tails() const { return tptr ? tptr[groups * blocks] : 0; }
  size_t seg_lists() const { return groups * blocks * (seg_max / 2); }
  size_t segments() const { return seg_max ? sptr[seg_lists()] : 0; }
  size_t slots() const { return seg_max ? sbase[seg_lists()] : chunks() * kCsrChunk + tails() * kCsrTail; }
};
// Chunked CSR xt kernel, for group g and K block b: outt[crow·ldt + i] += Σ_slots val · xtb[off·nv·W + i], where
// xtb is the block's part of an xt tile laid out in blocks of kb + 1 rows (the last one zero). No bias/activation.
using F32SpmmCsrChunkFn = void (*)(const F32CsrChunks& ck, size_t g, size_t b, const float* xtb, size_t nv,
                                   float* outt, size_t ldt);
// Row kernel (small M): out[i·ldo + r] = Σ_k w[r][k] · x[i·ldx + k] for i < m, r in [r0, r1) (r0 a multiple of bh;
// rows >= N are not stored). x rows must be readable up to k_padded(). No bias/activation: see epilogue.
using F32SpmmRowFn = void (*)(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m,
                              float* out, size_t ldo);
// N:M weights repacked for the panel kernels (vectorized over N, like the dense GEMM's B panels): rows in panels of
// nr (one vector), and for every slot t = g·n + s of a panel (g < K/m groups, s < n) the nr stored values of its
// rows. Offsets travel beside them, 4 bits per slot: u32 lane j of off[p][t / 8] holds slot t's offset for row
// p·nr + j in bits 4·(t % 8) .. +3. Rows past N hold zero values and offset 0. Made by f32_nm_pack_panels.
struct F32NmPanels {
  size_t n = 0, k = 0, nn = 0, mm = 0, nr = 0;
  const float* val = nullptr;     // [panels][groups·nn][nr]
  const uint32_t* off = nullptr;  // [panels][ceil(groups·nn / 8)][nr]
  size_t groups() const { return mm ? k / mm : 0; }
  size_t slots() const { return groups() * nn; }
  size_t off_words() const { return (slots() + 7) / 8; }
  size_t panels() const { return nr ? (n + nr - 1) / nr : 0; }
};

// Panel kernel (N:M, M past the row kernels): for panels [p0, p1), groups [g0, g1) and m rows of x,
//   out[i·ldo + r] = (first ? 0 : out[i·ldo + r]) + Σ_{g in [g0, g1)} Σ_s w[r][g·mm + off] · x[i·ldx + g·mm + off],
// then act(· + bias[r]) when last. g0 is a multiple of 8 (so a K block starts on a whole offset word); x is read
// only at k < K, out only at r < N. Each stored weight vector (nr rows) is one full-width FMA per row of M.
using F32SpmmPanelFn = void (*)(const F32NmPanels& p, size_t p0, size_t p1, size_t g0, size_t g1, const float* x,
                                size_t ldx, size_t m, float* out, size_t ldo, const float* bias, int act, bool first,
                                bool last);
// y[i] = act(y[i] + bias[i]) for i < n (bias may be null).
using F32SpmmEpilogueFn = void (*)(float* y, size_t n, const float* bias, int act);

struct F32SpmmVariant {
  const char* name;  // family name of the variant, e.g. "f32_spmm__avx512f"
  Isa isa;
  size_t w;          // f32 lanes per vector: xt tiles are padded to multiples of it
  size_t max_nv;     // at most this many vectors of M per xt tile (register budget)
  size_t acc_regs;   // accumulator registers the block kernels may use (rows per group × nv)
  // Indexed by SparseFormat.
  F32SpmmXtFn xt[3];
  F32SpmmRowFn row[3];
  F32SpmmEpilogueFn epilogue;
  // Kernel names, indexed by SparseFormat: the xt kernel at max_nv, then the row kernel.
  const char* xt_name[3];
  const char* row_name[3];
  // Optional narrower xt kernels for M <= narrow_w (one vector of narrow_w lanes: AVX-512 uses ymm for M <= 8,
  // halving the wasted lanes and the L2 traffic per weight). narrow_w = 0: none.
  size_t narrow_w;
  F32SpmmXtFn xt_narrow[3];
  const char* xt_narrow_name[3];
  // Optional N:M panel kernel (null: N:M runs the xt kernels at every M) for m <= panel_max_m, panels nr wide.
  size_t panel_nr;
  size_t panel_max_m;
  F32SpmmPanelFn nm_panel;
  const char* nm_panel_name;
  // Optional chunked CSR xt kernel (null: CSR walks the whole K per row). Without a narrow one it serves every M.
  F32SpmmCsrChunkFn csr_chunks;
  const char* csr_chunks_name;
  // Optional chunked CSR xt kernel for M <= narrow_w (one vector of narrow_w lanes), so weights kept only in the
  // chunked form serve M = 1..narrow_w too; null with narrow_w > 0: such M need the CSR arrays.
  F32SpmmCsrChunkFn csr_chunks_narrow;
  const char* csr_chunks_narrow_name;
};

#define ST_F32_SPMM(sym, isa) extern const F32SpmmVariant sym;
#include "kernels/f32-spmm/kernels.inc"
#undef ST_F32_SPMM

// All variants compiled into this binary, best first (those this CPU can't run included); filled in cpu/dispatch.cc.
extern const VariantTable<F32SpmmVariant> f32_spmm_table;

// Reference: densify w, then f32_gemm_reference (double accumulation). Tests only.
void f32_spmm_reference(const F32SparseView& w, size_t m, const float* x, size_t ldx, float* out, size_t ldo,
                        const float* bias, int act);

}  // namespace simdtensor
