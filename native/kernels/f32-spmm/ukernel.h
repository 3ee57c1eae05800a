// The f32 sparse-weight kernels, written once over vector traits V and instantiated per ISA (see f32-spmm.h).
// "xt" kernels vectorize over M: the activation tile is transposed to [k][M tile], so each stored weight w[r][k]
// is one broadcast and NV FMAs into that row's M-vector accumulators (XNNPACK spmm style, but with the output
// row-major: the driver transposes the small outt tile back). "row" kernels serve M <= 4 (dot products along k).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include "common/unroll.h"
#include "common/vec_act.h"
#include "kernels/f32-spmm/f32-spmm.h"

namespace simdtensor {
namespace {

// The chunked CSR kernels' slot helpers take accumulator arrays by reference: out of line (GCC stops inlining them
// once a file holds enough instantiations) the accumulators go through memory at every call.
#define ST_SPMM_INLINE inline __attribute__((always_inline))

constexpr size_t kSpmmRowMaxM = 4;  // row kernels take at most this many activation rows per call

// Independent accumulator sets, so FMA latency (4 cycles, 2 pipes) is hidden even for a one-vector M tile.
template <int Live>
constexpr int spmm_unroll() {
  return Live >= 8 ? 1 : 8 / Live;
}

template <class V, int NV, int U>
inline void spmm_finish_row(typename V::R (&acc)[U][NV], float b, int act, float* dst) {
  using R = typename V::R;
  constexpr int W = V::W;
  ST_UNROLL
  for (int v = 0; v < NV; v++) {
    R s = acc[0][v];
    ST_UNROLL
    for (int u = 1; u < U; u++) s = V::add(s, acc[u][v]);
    s = vact<V>(V::add(s, V::set1(b)), act);
    V::store(dst + v * W, s);
  }
}

// ---- xt kernels -------------------------------------------------------------------------------------------

template <class V, int NV, class Idx>
void spmm_csr_xt(const F32SparseView& w, size_t r0, size_t r1, const float* xt, float* outt, size_t ldt,
                 const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr size_t MT = size_t(NV) * W;
  constexpr int U = spmm_unroll<NV>();
  const uint32_t* ptr = w.ptr;
  const Idx* col = static_cast<const Idx*>(w.idx);
  const float* val = w.val;
  for (size_t r = r0; r < r1; r++) {
    R acc[U][NV];
    ST_UNROLL
    for (int u = 0; u < U; u++)
      ST_UNROLL
      for (int v = 0; v < NV; v++) acc[u][v] = V::zero();
    size_t j = ptr[r];
    const size_t e = ptr[r + 1];
    for (; j + U <= e; j += U) {
      ST_UNROLL
      for (int u = 0; u < U; u++) {
        const float* xp = xt + size_t(col[j + u]) * MT;
        const R wv = V::set1(val[j + u]);
        ST_UNROLL
        for (int v = 0; v < NV; v++) acc[u][v] = V::fmadd(wv, V::load(xp + v * W), acc[u][v]);
      }
    }
    for (; j < e; j++) {
      const float* xp = xt + size_t(col[j]) * MT;
      const R wv = V::set1(val[j]);
      ST_UNROLL
      for (int v = 0; v < NV; v++) acc[0][v] = V::fmadd(wv, V::load(xp + v * W), acc[0][v]);
    }
    spmm_finish_row<V, NV, U>(acc, bias ? bias[r] : 0.0f, act, outt + (r - r0) * ldt);
  }
}

// Slots S and S + 1 of a chunk of CH (offsets in the low bytes of o), then the rest: recursion, so lane<S> gets a
// compile-time lane.
template <class V, class L, int NV, int CH, int S>
ST_SPMM_INLINE void spmm_chunk_slots(typename V::R (&a0)[NV], typename V::R (&a1)[NV], typename L::P wv, uint64_t o,
                             const float* xtb) {
  if constexpr (S < CH) {
    using R = typename V::R;
    constexpr int W = V::W;
    constexpr size_t MT = size_t(NV) * W;
    const float* x0 = xtb + size_t(o & 255u) * MT;
    const float* x1 = xtb + size_t((o >> 8) & 255u) * MT;
    const R w0 = L::template lane<S>(wv), w1 = L::template lane<S + 1>(wv);
    ST_UNROLL
    for (int v = 0; v < NV; v++) {
      a0[v] = V::fmadd(w0, V::load(x0 + v * W), a0[v]);
      a1[v] = V::fmadd(w1, V::load(x1 + v * W), a1[v]);
    }
    spmm_chunk_slots<V, L, NV, CH, S + 2>(a0, a1, wv, o >> 16, xtb);
  }
}

// Chunks [c0, c1) of CH slots (rows crow, offsets off, weights val, CH per chunk): each is one read-modify-write of
// its row's outt vectors around CH lane broadcasts × NV FMAs.
template <class V, class L, int NV, int CH>
inline void spmm_chunk_list(size_t c0, size_t c1, const uint8_t* crow, const uint8_t* off, const float* val,
                            const float* xtb, float* outt, size_t ldt) {
  using R = typename V::R;
  constexpr int W = V::W;
  for (size_t c = c0; c < c1; c++) {
    float* dst = outt + size_t(crow[c]) * ldt;
    uint64_t o = 0;
    std::memcpy(&o, off + c * CH, CH);
    const typename L::P wv = L::template load<CH>(val + c * CH);
    R a0[NV], a1[NV];
    ST_UNROLL
    for (int v = 0; v < NV; v++) {
      a0[v] = V::load(dst + v * W);
      a1[v] = V::zero();
    }
    spmm_chunk_slots<V, L, NV, CH, 0>(a0, a1, wv, o, xtb);
    ST_UNROLL
    for (int v = 0; v < NV; v++) V::store(dst + v * W, V::add(a0[v], a1[v]));
  }
}

// One (group, block) of chunked CSR (F32CsrChunks): the block's xt rows (sized by the driver for L1) serve every
// chunk, full ones then tails. Measured in isolation (all operands in L1) the kernel is bound by loads, not FMAs
// (its 32 FMAs per chunk alone take about a third of a chunk's time), so a chunk's offsets are one u64 load taken
// apart with shifts and its weights one vector load whose lanes L::lane broadcasts in registers (a vpermps on the
// FP pipes): 2 loads where there were 16, beside the NV xt loads per weight that the format cannot avoid.
// L supplies P (a chunk's weights in a register), load<CH>(p) and lane<s>(P).
// Pieces P, P + 1, ... of 8 slots of a segment of SL slots (the last piece SL − 8P when shorter): offsets as one u64,
// weights as one 8-lane vector (the pack leaves kCsrSegSlack slots after the last segment for these whole loads).
// Accumulator sets alternate by piece when there are four (NS), so a long segment keeps 2·NS·NV FMA chains.
template <class V, class L, int NV, int SL, int NS, int P>
ST_SPMM_INLINE void spmm_seg_pieces(typename V::R (&a)[NS][NV], const uint8_t* off, const float* val, const float* xtb) {
  if constexpr (P * 8 < SL) {
    constexpr int CH = SL - P * 8 < 8 ? SL - P * 8 : 8;
    constexpr int S0 = NS == 4 ? (P % 2) * 2 : 0;
    uint64_t o = 0;
    std::memcpy(&o, off + P * 8, 8);
    spmm_chunk_slots<V, L, NV, CH, 0>(a[S0], a[S0 + 1], L::template load<8>(val + P * 8), o, xtb);
    spmm_seg_pieces<V, L, NV, SL, NS, P + 1>(a, off, val, xtb);
  }
}

// The segments [s0, s1) of one list (all SL slots long, from slot `off`/`val` on): per segment one read of its
// row's outt vectors, SL slots with the accumulators in registers, one write.
template <class V, class L, int NV, int SL>
inline void spmm_seg_list(size_t s0, size_t s1, const uint8_t* srow, const uint8_t* off, const float* val,
                          const float* xtb, float* outt, size_t ldt) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int NS = SL > 8 && NV <= 2 ? 4 : 2;
  for (size_t s = s0; s < s1; s++, off += SL, val += SL) {
    float* dst = outt + size_t(srow[s]) * ldt;
    R a[NS][NV];
    ST_UNROLL
    for (int v = 0; v < NV; v++) {
      a[0][v] = V::load(dst + v * W);
      ST_UNROLL
      for (int u = 1; u < NS; u++) a[u][v] = V::zero();
    }
    spmm_seg_pieces<V, L, NV, SL, NS, 0>(a, off, val, xtb);
    ST_UNROLL
    for (int v = 0; v < NV; v++) {
      R t = V::add(a[0][v], a[1][v]);
      if constexpr (NS == 4) t = V::add(t, V::add(a[2][v], a[3][v]));
      V::store(dst + v * W, t);
    }
  }
}

// Every list of a (group, block) in the segment layout, L = SL .. seg_max.
template <class V, class L, int NV, int SL>
inline void spmm_seg_lists(const F32CsrChunks& ck, size_t l0, const float* xtb, float* outt, size_t ldt) {
  if constexpr (SL <= int(kCsrSegMax)) {
    if (size_t(SL) > ck.seg_max) return;
    const size_t l = l0 + size_t(SL / 2 - 1), base = ck.sbase[l];
    spmm_seg_list<V, L, NV, SL>(ck.sptr[l], ck.sptr[l + 1], ck.srow, ck.off + base, ck.val + base, xtb, outt, ldt);
    spmm_seg_lists<V, L, NV, SL + 2>(ck, l0, xtb, outt, ldt);
  }
}

template <class V, class L, int NV>
void spmm_csr_chunks_xt(const F32CsrChunks& ck, size_t g, size_t b, const float* xtb, float* outt, size_t ldt) {
  static_assert(kCsrChunk == 8 && kCsrTail == 4, "chunk offsets are read as one u64 / u32");
  const size_t gb = g * ck.blocks + b;
  if (ck.seg_max) return spmm_seg_lists<V, L, NV, 2>(ck, gb * (ck.seg_max / 2), xtb, outt, ldt);
  spmm_chunk_list<V, L, NV, 8>(ck.cptr[gb], ck.cptr[gb + 1], ck.crow, ck.off, ck.val, xtb, outt, ldt);
  spmm_chunk_list<V, L, NV, 4>(ck.tptr[gb], ck.tptr[gb + 1], ck.trow, ck.toff, ck.tval, xtb, outt, ldt);
}

// RB rows of a block row at a time share each loaded xt row (bh is a multiple of RB).
template <class V, int NV, int RB, class Idx>
void spmm_bsr_xt(const F32SparseView& w, size_t r0, size_t r1, const float* xt, float* outt, size_t ldt,
                 const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr size_t MT = size_t(NV) * W;
  constexpr int U = spmm_unroll<RB * NV>();
  const size_t bh = w.bh, bw = w.bw, bsz = bh * bw;
  const uint32_t* ptr = w.ptr;
  const Idx* col = static_cast<const Idx*>(w.idx);
  for (size_t br = r0 / bh; br * bh < r1; br++) {
    for (size_t rg = 0; rg < bh; rg += RB) {
      R acc[U][RB * NV];
      ST_UNROLL
      for (int u = 0; u < U; u++)
        ST_UNROLL
        for (int i = 0; i < RB * NV; i++) acc[u][i] = V::zero();
      for (size_t b = ptr[br]; b < ptr[br + 1]; b++) {
        const float* xp = xt + size_t(col[b]) * bw * MT;
        const float* wp = w.val + b * bsz + rg * bw;
        size_t j = 0;
        for (; j + U <= bw; j += U)
          ST_UNROLL
          for (int u = 0; u < U; u++) {
            R xv[NV];
            ST_UNROLL
            for (int v = 0; v < NV; v++) xv[v] = V::load(xp + (j + u) * MT + v * W);
            ST_UNROLL
            for (int rr = 0; rr < RB; rr++) {
              const R wv = V::set1(wp[rr * bw + j + u]);
              ST_UNROLL
              for (int v = 0; v < NV; v++) acc[u][rr * NV + v] = V::fmadd(wv, xv[v], acc[u][rr * NV + v]);
            }
          }
        for (; j < bw; j++) {
          R xv[NV];
          ST_UNROLL
          for (int v = 0; v < NV; v++) xv[v] = V::load(xp + j * MT + v * W);
          ST_UNROLL
          for (int rr = 0; rr < RB; rr++) {
            const R wv = V::set1(wp[rr * bw + j]);
            ST_UNROLL
            for (int v = 0; v < NV; v++) acc[0][rr * NV + v] = V::fmadd(wv, xv[v], acc[0][rr * NV + v]);
          }
        }
      }
      ST_UNROLL
      for (int rr = 0; rr < RB; rr++) {
        const size_t row = br * bh + rg + size_t(rr);
        float* dst = outt + (row - r0) * ldt;
        ST_UNROLL
        for (int v = 0; v < NV; v++) {
          R s = acc[0][rr * NV + v];
          ST_UNROLL
          for (int u = 1; u < U; u++) s = V::add(s, acc[u][rr * NV + v]);
          const float b = (bias && row < w.n) ? bias[row] : 0.0f;
          V::store(dst + v * W, vact<V>(V::add(s, V::set1(b)), act));
        }
      }
    }
  }
}

// N:M with NN slots per group known at compile time (NN = 0: runtime n, one accumulator set).
template <class V, int NV, int NN>
void spmm_nm_xt(const F32SparseView& w, size_t r0, size_t r1, const float* xt, float* outt, size_t ldt,
                const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr size_t MT = size_t(NV) * W;
  constexpr int U = NN > 0 ? spmm_unroll<NV>() : 1;
  constexpr int GU = NN > 0 && U > NN ? U / NN : 1;  // groups per unrolled step; slot t uses set t % U
  const size_t G = w.nm_groups(), mm = w.nm_m, nn = w.nm_n, per_row = G * nn, rbytes = w.nm_row_bytes();
  for (size_t r = r0; r < r1; r++) {
    const float* vr = w.val + r * per_row;
    const uint8_t* ib = w.nib + r * rbytes;
    R acc[U][NV];
    ST_UNROLL
    for (int u = 0; u < U; u++)
      ST_UNROLL
      for (int v = 0; v < NV; v++) acc[u][v] = V::zero();
    if constexpr (NN > 0) {
      size_t g = 0;
      for (; g + GU <= G; g += GU)
        ST_UNROLL
        for (int gu = 0; gu < GU; gu++)
          ST_UNROLL
          for (int s = 0; s < NN; s++) {
            const size_t t = (g + size_t(gu)) * NN + size_t(s);
            const size_t off = (ib[t >> 1] >> ((t & 1) * 4)) & 15u;
            const float* xp = xt + ((g + size_t(gu)) * mm + off) * MT;
            const R wv = V::set1(vr[t]);
            const int a = (gu * NN + s) % U;
            ST_UNROLL
            for (int v = 0; v < NV; v++) acc[a][v] = V::fmadd(wv, V::load(xp + v * W), acc[a][v]);
          }
      for (; g < G; g++)
        ST_UNROLL
        for (int s = 0; s < NN; s++) {
          const size_t t = g * NN + size_t(s);
          const size_t off = (ib[t >> 1] >> ((t & 1) * 4)) & 15u;
          const float* xp = xt + (g * mm + off) * MT;
          const R wv = V::set1(vr[t]);
          ST_UNROLL
          for (int v = 0; v < NV; v++) acc[s % U][v] = V::fmadd(wv, V::load(xp + v * W), acc[s % U][v]);
        }
    } else {
      for (size_t g = 0, t = 0; g < G; g++)
        for (size_t s = 0; s < nn; s++, t++) {
          const size_t off = (ib[t >> 1] >> ((t & 1) * 4)) & 15u;
          const float* xp = xt + (g * mm + off) * MT;
          const R wv = V::set1(vr[t]);
          ST_UNROLL
          for (int v = 0; v < NV; v++) acc[0][v] = V::fmadd(wv, V::load(xp + v * W), acc[0][v]);
        }
    }
    spmm_finish_row<V, NV, U>(acc, bias ? bias[r] : 0.0f, act, outt + (r - r0) * ldt);
  }
}

// N:M, RB rows in lockstep over the groups: the m xt rows of a group are fetched from L2 once and then serve all
// RB rows from L1 (unstructured rows can't do this: their index lists don't line up). Rows past the last full
// RB go through spmm_nm_xt.
template <class V, int NV, int NN, int RB>
void spmm_nm_xt_lockstep(const F32SparseView& w, size_t r0, size_t r1, const float* xt, float* outt, size_t ldt,
                         const float* bias, int act) {
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr size_t MT = size_t(NV) * W;
  const size_t G = w.nm_groups(), mm = w.nm_m, per_row = G * NN, rbytes = w.nm_row_bytes();
  size_t r = r0;
  for (; r + RB <= r1; r += RB) {
    const float* vr = w.val + r * per_row;
    const uint8_t* ib = w.nib + r * rbytes;
    R acc[RB][NV];
    ST_UNROLL
    for (int rr = 0; rr < RB; rr++)
      ST_UNROLL
      for (int v = 0; v < NV; v++) acc[rr][v] = V::zero();
    for (size_t g = 0; g < G; g++) {
      const float* xg = xt + g * mm * MT;
      ST_UNROLL
      for (int rr = 0; rr < RB; rr++)
        ST_UNROLL
        for (int s = 0; s < NN; s++) {
          const size_t t = g * NN + size_t(s);
          const size_t off = (ib[rr * rbytes + (t >> 1)] >> ((t & 1) * 4)) & 15u;
          const R wv = V::set1(vr[rr * per_row + t]);
          const float* xp = xg + off * MT;
          ST_UNROLL
          for (int v = 0; v < NV; v++) acc[rr][v] = V::fmadd(wv, V::load(xp + v * W), acc[rr][v]);
        }
    }
    ST_UNROLL
    for (int rr = 0; rr < RB; rr++) {
      const float b = bias ? bias[r + rr] : 0.0f;
      float* dst = outt + (r + rr - r0) * ldt;
      ST_UNROLL
      for (int v = 0; v < NV; v++) V::store(dst + v * W, vact<V>(V::add(acc[rr][v], V::set1(b)), act));
    }
  }
  if (r < r1) spmm_nm_xt<V, NV, NN>(w, r, r1, xt, outt + (r - r0) * ldt, ldt, bias, act);
}

// ---- N:M panel kernels ------------------------------------------------------------------------------------
// Vectorized over N like the dense GEMM: one vector holds a slot's weights for nr rows; for each of MR rows of x
// the group's window of m activations is loaded once and S::pick selects, per lane, the activation at that row's
// offset (a vpermps on x86), so every stored weight is one full-width FMA and each loaded weight vector serves MR
// rows of M. S supplies: I (offset vector), Win (a group's window of x), load_off, shr4, shr, window<MM>, pick<MM>.

// Software prefetch distance along a panel's values, in floats (16 KiB, as the dense GEMM's B panels: streaming
// weights from DRAM at small M, the misses in flight bound one core's bandwidth); offsets run 8× slower.
constexpr size_t kNmPanelPrefetch = 4096;

template <class V, class S, int MR, int NN, int MM>
void spmm_nm_panel_tile(const F32NmPanels& pk, size_t p, size_t g0, size_t g1, const float* x, size_t ldx,
                        float* out, size_t ldo, const float* bias, int act, bool first, bool last) {
  using R = typename V::R;
  using I = typename S::I;
  using Win = typename S::Win;
  constexpr size_t NR = size_t(V::W);
  const size_t nn = NN > 0 ? size_t(NN) : pk.nn, mm = MM > 0 ? size_t(MM) : pk.mm;
  const size_t r0 = p * NR, cols = pk.n - r0 < NR ? pk.n - r0 : NR;
  const bool full = cols == NR;
  const float* vp = pk.val + (p * pk.slots() + g0 * nn) * NR;
  const uint32_t* op = pk.off + p * pk.off_words() * NR;
  R acc[MR];
  ST_UNROLL
  for (int i = 0; i < MR; i++) {
    float* o = out + size_t(i) * ldo + r0;
    acc[i] = first ? V::zero() : (full ? V::load(o) : V::load_partial(o, cols));
  }
  if constexpr (NN > 0 && 8 % NN == 0) {
    constexpr size_t GC = 8 / NN;  // groups per offset word; g0 is a multiple of 8, so words start on groups
    for (size_t g = g0; g < g1; g += GC) {
      I iv = S::load_off(op + (g * NN / 8) * NR);
      V::prefetch(op + (g * NN / 8) * NR + kNmPanelPrefetch / 8);
      const size_t ge = g + GC < g1 ? g + GC : g1;
      for (size_t gg = g; gg < ge; gg++) {
        Win xw[MR];
        ST_UNROLL
        for (int i = 0; i < MR; i++) xw[i] = S::template window<MM>(x + size_t(i) * ldx + gg * mm, mm);
        ST_UNROLL
        for (int s = 0; s < NN; s++) {
          const R wv = V::load(vp);
          V::prefetch(vp + kNmPanelPrefetch);
          vp += NR;
          ST_UNROLL
          for (int i = 0; i < MR; i++) acc[i] = V::fmadd(wv, S::template pick<MM>(xw[i], iv), acc[i]);
          iv = S::shr4(iv);
        }
      }
    }
  } else {
    for (size_t g = g0; g < g1; g++) {
      Win xw[MR];
      ST_UNROLL
      for (int i = 0; i < MR; i++) xw[i] = S::template window<MM>(x + size_t(i) * ldx + g * mm, mm);
      for (size_t s = 0; s < nn; s++) {
        const size_t t = g * nn + s;
        const I iv = S::shr(S::load_off(op + (t >> 3) * NR), unsigned(t & 7) * 4);
        const R wv = V::load(vp);
        vp += NR;
        ST_UNROLL
        for (int i = 0; i < MR; i++) acc[i] = V::fmadd(wv, S::template pick<MM>(xw[i], iv), acc[i]);
      }
    }
  }
  R b = V::zero();
  if (last && bias) b = full ? V::load(bias + r0) : V::load_partial(bias + r0, cols);
  ST_UNROLL
  for (int i = 0; i < MR; i++) {
    R v = last ? vact<V>(V::add(acc[i], b), act) : acc[i];
    float* o = out + size_t(i) * ldo + r0;
    if (full) V::store(o, v);
    else V::store_partial(o, v, cols);
  }
}

// The last rows of x (fewer than 8) with an MR = rows tile.
template <class V, class S, int NN, int MM, int MR = 1>
void spmm_nm_panel_rest(size_t rows, const F32NmPanels& pk, size_t p, size_t g0, size_t g1, const float* x, size_t ldx,
                        float* out, size_t ldo, const float* bias, int act, bool first, bool last) {
  if constexpr (MR < 8) {
    if (rows == size_t(MR)) return spmm_nm_panel_tile<V, S, MR, NN, MM>(pk, p, g0, g1, x, ldx, out, ldo, bias, act, first, last);
    spmm_nm_panel_rest<V, S, NN, MM, MR + 1>(rows, pk, p, g0, g1, x, ldx, out, ldo, bias, act, first, last);
  }
}

// Panels outer, tiles of 8 rows of M inner: a panel's block of weights (the driver sizes it for L1) is fetched
// once and then serves every M tile.
template <class V, class S, int NN, int MM>
void spmm_nm_panel(const F32NmPanels& pk, size_t p0, size_t p1, size_t g0, size_t g1, const float* x, size_t ldx,
                   size_t m, float* out, size_t ldo, const float* bias, int act, bool first, bool last) {
  for (size_t p = p0; p < p1; p++) {
    size_t i = 0;
    for (; i + 8 <= m; i += 8)
      spmm_nm_panel_tile<V, S, 8, NN, MM>(pk, p, g0, g1, x + i * ldx, ldx, out + i * ldo, ldo, bias, act, first, last);
    if (i < m)
      spmm_nm_panel_rest<V, S, NN, MM>(m - i, pk, p, g0, g1, x + i * ldx, ldx, out + i * ldo, ldo, bias, act, first,
                                       last);
  }
}

// Runtime (n, m) → compile-time slots and window: the common patterns get unrolled slots and whole-vector window
// loads, the rest run with runtime n and a masked window. m <= MAXM (the widest window S can pick from).
template <class V, class S, int MAXM>
void spmm_nm_panel_any(const F32NmPanels& pk, size_t p0, size_t p1, size_t g0, size_t g1, const float* x, size_t ldx,
                       size_t m, float* out, size_t ldo, const float* bias, int act, bool first, bool last) {
  auto run = [&](auto nn, auto mm) {
    spmm_nm_panel<V, S, decltype(nn)::value, decltype(mm)::value>(pk, p0, p1, g0, g1, x, ldx, m, out, ldo, bias, act,
                                                                 first, last);
  };
  using I1 = std::integral_constant<int, 1>;
  using I2 = std::integral_constant<int, 2>;
  using I4 = std::integral_constant<int, 4>;
  using I0 = std::integral_constant<int, 0>;
  auto by_n = [&](auto mm) {
    switch (pk.nn) {
      case 1: return run(I1(), mm);
      case 2: return run(I2(), mm);
      case 4: return run(I4(), mm);
      default: return run(I0(), mm);
    }
  };
  if (pk.mm == 4) return by_n(I4());
  if (pk.mm == 8) return by_n(std::integral_constant<int, 8>());
  if constexpr (MAXM >= 16) {
    if (pk.mm == 16) return by_n(std::integral_constant<int, 16>());
  }
  run(I0(), I0());
}

// Scalar selection for the portable variants (one row per "vector"): the window is the group's pointer.
struct SpmmPanelSelScalar {
  using I = uint32_t;
  using Win = const float*;
  static I load_off(const uint32_t* p) { return *p; }
  static I shr4(I v) { return v >> 4; }
  static I shr(I v, unsigned bits) { return v >> bits; }
  template <int MM>
  static Win window(const float* p, size_t) { return p; }
  template <int MM>
  static float pick(Win w, I off) { return w[off & 15u]; }
};

// ---- row kernels (portable: scalar dot products; ISA files override with gathers where they pay) ----------

template <class Idx>
void spmm_csr_row_scalar(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m,
                         float* out, size_t ldo) {
  const Idx* col = static_cast<const Idx*>(w.idx);
  const float* val = w.val;
  for (size_t r = r0; r < r1; r++) {
    const size_t b = w.ptr[r], e = w.ptr[r + 1];
    for (size_t i = 0; i < m; i++) {
      const float* xr = x + i * ldx;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t j = b;
      for (; j + 4 <= e; j += 4) {
        s0 += val[j] * xr[col[j]];
        s1 += val[j + 1] * xr[col[j + 1]];
        s2 += val[j + 2] * xr[col[j + 2]];
        s3 += val[j + 3] * xr[col[j + 3]];
      }
      for (; j < e; j++) s0 += val[j] * xr[col[j]];
      out[i * ldo + r] = (s0 + s1) + (s2 + s3);
    }
  }
}

// bw-wide blocks as vectors of V (partial loads when bw is not a multiple of W).
template <class V, int RB, class Idx>
void spmm_bsr_row(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m, float* out,
                  size_t ldo) {
  using R = typename V::R;
  constexpr int W = V::W;
  const size_t bh = w.bh, bw = w.bw, bsz = bh * bw;
  const Idx* col = static_cast<const Idx*>(w.idx);
  const bool full = bw % W == 0;
  for (size_t br = r0 / bh; br * bh < r1; br++) {
    for (size_t rg = 0; rg < bh; rg += RB) {
      for (size_t i = 0; i < m; i++) {
        const float* xr = x + i * ldx;
        R acc[RB];
        ST_UNROLL
        for (int rr = 0; rr < RB; rr++) acc[rr] = V::zero();
        for (size_t b = w.ptr[br]; b < w.ptr[br + 1]; b++) {
          const float* xp = xr + size_t(col[b]) * bw;
          const float* wp = w.val + b * bsz + rg * bw;
          for (size_t c = 0; c < bw; c += W) {
            const R xv = full ? V::load(xp + c) : V::load_partial(xp + c, bw - c);
            ST_UNROLL
            for (int rr = 0; rr < RB; rr++) {
              const R wv = full ? V::load(wp + rr * bw + c) : V::load_partial(wp + rr * bw + c, bw - c);
              acc[rr] = V::fmadd(wv, xv, acc[rr]);
            }
          }
        }
        ST_UNROLL
        for (int rr = 0; rr < RB; rr++) {
          const size_t row = br * bh + rg + size_t(rr);
          if (row < w.n) out[i * ldo + row] = V::hsum(acc[rr]);
        }
      }
    }
  }
}

inline void spmm_nm_row_scalar(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m,
                               float* out, size_t ldo) {
  const size_t G = w.nm_groups(), mm = w.nm_m, nn = w.nm_n, per_row = G * nn, rbytes = w.nm_row_bytes();
  for (size_t r = r0; r < r1; r++) {
    const float* vr = w.val + r * per_row;
    const uint8_t* ib = w.nib + r * rbytes;
    for (size_t i = 0; i < m; i++) {
      const float* xr = x + i * ldx;
      float s0 = 0, s1 = 0;
      size_t t = 0;
      for (size_t g = 0; g < G; g++) {
        const float* xg = xr + g * mm;
        for (size_t s = 0; s < nn; s++, t++) {
          const float p = vr[t] * xg[(ib[t >> 1] >> ((t & 1) * 4)) & 15u];
          if (t & 1) s1 += p; else s0 += p;
        }
      }
      out[i * ldo + r] = s0 + s1;
    }
  }
}

template <class V>
void spmm_epilogue(float* y, size_t n, const float* bias, int act) {
  constexpr int W = V::W;
  size_t i = 0;
  for (; i + W <= n; i += W) {
    typename V::R v = V::load(y + i);
    if (bias) v = V::add(v, V::load(bias + i));
    V::store(y + i, vact<V>(v, act));
  }
  if (i < n) {
    typename V::R v = V::load_partial(y + i, n - i);
    if (bias) v = V::add(v, V::load_partial(bias + i, n - i));
    V::store_partial(y + i, vact<V>(v, act), n - i);
  }
}

// Calls f(std::integral_constant<int, MM>()) with MM = min(m, 4): the row kernels' register blocking over the
// (at most kSpmmRowMaxM) activation rows.
template <class F>
inline void spmm_by_m(size_t m, F&& f) {
  switch (m) {
    case 1: return f(std::integral_constant<int, 1>());
    case 2: return f(std::integral_constant<int, 2>());
    case 3: return f(std::integral_constant<int, 3>());
    default: return f(std::integral_constant<int, 4>());
  }
}

// The CSR row kernels' entry: f(Idx(), integral_constant<int, MM>()) with the view's index type and MM as above.
template <class F>
inline void spmm_csr_by_m(const F32SparseView& w, size_t m, F&& f) {
  spmm_by_m(m, [&](auto mm) {
    if (w.idx16) f(uint16_t(), mm);
    else f(uint32_t(), mm);
  });
}

// ---- runtime → template dispatch ---------------------------------------------------------------------------

template <class V, int NVMAX, int NV = 1>
void spmm_csr_xt_nv(const F32SparseView& w, size_t r0, size_t r1, const float* xt, size_t nv, float* outt,
                    size_t ldt, const float* bias, int act) {
  if constexpr (NV <= NVMAX) {
    if (nv == NV) {
      if (w.idx16) return spmm_csr_xt<V, NV, uint16_t>(w, r0, r1, xt, outt, ldt, bias, act);
      return spmm_csr_xt<V, NV, uint32_t>(w, r0, r1, xt, outt, ldt, bias, act);
    }
    spmm_csr_xt_nv<V, NVMAX, NV + 1>(w, r0, r1, xt, nv, outt, ldt, bias, act);
  }
}

template <class V, class L, int NVMAX, int NV = 1>
void spmm_csr_chunks_xt_nv(const F32CsrChunks& ck, size_t g, size_t b, const float* xtb, size_t nv, float* outt,
                           size_t ldt) {
  if constexpr (NV <= NVMAX) {
    if (nv == NV) return spmm_csr_chunks_xt<V, L, NV>(ck, g, b, xtb, outt, ldt);
    spmm_csr_chunks_xt_nv<V, L, NVMAX, NV + 1>(ck, g, b, xtb, nv, outt, ldt);
  }
}

// Rows per group for a block height (the driver sizes nv so RB·nv fits the accumulator budget).
inline int spmm_bsr_rb(size_t bh) { return bh % 4 == 0 ? 4 : (bh % 2 == 0 ? 2 : 1); }

template <class V, int NVMAX, int ACC, int NV = 1>
void spmm_bsr_xt_nv(const F32SparseView& w, size_t r0, size_t r1, const float* xt, size_t nv, float* outt,
                    size_t ldt, const float* bias, int act) {
  if constexpr (NV <= NVMAX) {
    if (nv == NV) {
      const int rb = spmm_bsr_rb(w.bh);
      if constexpr (4 * NV <= ACC) {
        if (rb == 4) {
          if (w.idx16) return spmm_bsr_xt<V, NV, 4, uint16_t>(w, r0, r1, xt, outt, ldt, bias, act);
          return spmm_bsr_xt<V, NV, 4, uint32_t>(w, r0, r1, xt, outt, ldt, bias, act);
        }
      }
      if constexpr (2 * NV <= ACC) {
        if (rb >= 2) {
          if (w.idx16) return spmm_bsr_xt<V, NV, 2, uint16_t>(w, r0, r1, xt, outt, ldt, bias, act);
          return spmm_bsr_xt<V, NV, 2, uint32_t>(w, r0, r1, xt, outt, ldt, bias, act);
        }
      }
      if (w.idx16) return spmm_bsr_xt<V, NV, 1, uint16_t>(w, r0, r1, xt, outt, ldt, bias, act);
      return spmm_bsr_xt<V, NV, 1, uint32_t>(w, r0, r1, xt, outt, ldt, bias, act);
    }
    spmm_bsr_xt_nv<V, NVMAX, ACC, NV + 1>(w, r0, r1, xt, nv, outt, ldt, bias, act);
  }
}

template <class V, int NVMAX, int ACC, int NV = 1>
void spmm_nm_xt_nv(const F32SparseView& w, size_t r0, size_t r1, const float* xt, size_t nv, float* outt,
                   size_t ldt, const float* bias, int act) {
  if constexpr (NV <= NVMAX) {
    if (nv == NV) {
      constexpr int RB = 4 * NV <= ACC ? 4 : (2 * NV <= ACC ? 2 : 1);
      switch (w.nm_n) {
        case 1: return spmm_nm_xt_lockstep<V, NV, 1, RB>(w, r0, r1, xt, outt, ldt, bias, act);
        case 2: return spmm_nm_xt_lockstep<V, NV, 2, RB>(w, r0, r1, xt, outt, ldt, bias, act);
        case 4: return spmm_nm_xt_lockstep<V, NV, 4, RB>(w, r0, r1, xt, outt, ldt, bias, act);
        default: return spmm_nm_xt<V, NV, 0>(w, r0, r1, xt, outt, ldt, bias, act);
      }
    }
    spmm_nm_xt_nv<V, NVMAX, ACC, NV + 1>(w, r0, r1, xt, nv, outt, ldt, bias, act);
  }
}

// Row kernel dispatch for the portable paths: V is the vector type used for block rows.
template <class V>
void spmm_bsr_row_any(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m, float* out,
                      size_t ldo) {
  const int rb = spmm_bsr_rb(w.bh);
  if (rb == 4) {
    if (w.idx16) return spmm_bsr_row<V, 4, uint16_t>(w, r0, r1, x, ldx, m, out, ldo);
    return spmm_bsr_row<V, 4, uint32_t>(w, r0, r1, x, ldx, m, out, ldo);
  }
  if (rb == 2) {
    if (w.idx16) return spmm_bsr_row<V, 2, uint16_t>(w, r0, r1, x, ldx, m, out, ldo);
    return spmm_bsr_row<V, 2, uint32_t>(w, r0, r1, x, ldx, m, out, ldo);
  }
  if (w.idx16) return spmm_bsr_row<V, 1, uint16_t>(w, r0, r1, x, ldx, m, out, ldo);
  return spmm_bsr_row<V, 1, uint32_t>(w, r0, r1, x, ldx, m, out, ldo);
}

inline void spmm_csr_row_any_scalar(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx,
                                    size_t m, float* out, size_t ldo) {
  if (w.idx16) return spmm_csr_row_scalar<uint16_t>(w, r0, r1, x, ldx, m, out, ldo);
  spmm_csr_row_scalar<uint32_t>(w, r0, r1, x, ldx, m, out, ldo);
}

}  // namespace
}  // namespace simdtensor

// Defines a portable variant `sym` over traits V (row kernels: scalar CSR/N:M, V-vector BSR; no chunked CSR kernel:
// not measured on those ISAs). `...`: its N:M
// panel fields (panel_nr, panel_max_m, nm_panel, nm_panel_name), or 0, 0, nullptr, nullptr for none.
#define ST_F32_SPMM_PORTABLE_VARIANT(sym, V, isa, nvmax, acc, suffix, mt, ...)                                       \
  const F32SpmmVariant sym = {                                                                                    \
      #sym, isa, size_t(V::W), nvmax, acc,                                                                         \
      {&spmm_csr_xt_nv<V, nvmax>, &spmm_bsr_xt_nv<V, nvmax, acc>, &spmm_nm_xt_nv<V, nvmax, acc>},                      \
      {&spmm_csr_row_any_scalar, &spmm_bsr_row_any<V>, &spmm_nm_row_scalar},                                       \
      &spmm_epilogue<V>,                                                                                          \
      {"f32_spmm_csr_xt" mt "__" suffix, "f32_spmm_bsr_xt" mt "__" suffix, "f32_spmm_nm_xt" mt "__" suffix},       \
      {"f32_spmm_csr_row__" suffix, "f32_spmm_bsr_row__" suffix, "f32_spmm_nm_row__" suffix},                  \
      0, {nullptr, nullptr, nullptr}, {nullptr, nullptr, nullptr}, __VA_ARGS__, nullptr, nullptr,  \
      nullptr, nullptr};
