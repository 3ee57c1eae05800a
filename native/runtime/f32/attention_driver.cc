// Fused attention driver. One task per (batch, head): Kᵀ and V packed once into B panels, then per block of Q rows
// the scores block (rows × seq_k, kept in L2) is one small GEMM, the mask row add and the softmax run in place on
// it, and a second GEMM writes the context rows straight into the strided output. Nothing [b, h, s, s]-sized is
// ever materialized, and no transposed copies of Q/K/V are made.
#include "runtime/f32/attention_driver.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"
#include "runtime/f32/pack.h"
#include "kernels/f32-transpose/f32-transpose.h"

namespace simdtensor {

namespace {

thread_local ScratchBuffer<float> t_kpack, t_vpack, t_scores, t_inv, t_mrow;

// Rows of Q per block: the scores block stays near 64 KiB (L2-resident between the two GEMMs), a multiple of mr.
size_t row_block(size_t mr, size_t seq_q, size_t seq_k) {
  size_t rb = (16384 / std::max<size_t>(seq_k, 1)) / mr * mr;
  rb = std::max(rb, mr);
  return std::min(rb, ((seq_q + mr - 1) / mr) * mr);
}

// Kᵀ as pack_b_f32 panels (kc = dk groups of nr keys, zero past seq_k): each panel is an nr × dk block of K
// transposed into rows of nr.
void pack_kt(const F32TransposeVariant& tv, const float* k, size_t ldk, size_t dk, size_t sk, size_t nr, float* out) {
  for (size_t j0 = 0; j0 < sk; j0 += nr) {
    const size_t nv = std::min(nr, sk - j0);
    float* dst = out + (j0 / nr) * dk * nr;
    tv.run(nv, dk, k + j0 * ldk, ldk, dst, nr);
    if (nv < nr)
      for (size_t p = 0; p < dk; p++) std::fill(dst + p * nr + nv, dst + p * nr + nr, 0.0f);
  }
}

// C (m × n, ldc) = A (m × kc, row stride lda, read in place by the strided-A microkernel: packing Q and the
// probabilities was a fifth of the attention's time) · Bpack, tile by tile; B panels outermost so each stays in L1
// across the row tiles.
// row_scale (m floats, or null): row i of the product times row_scale[i], in the microkernel's registers.
void tile_gemm(const F32GemmVariant& gv, size_t m, size_t n, size_t kc, const float* a, size_t lda, const float* bp,
               float* c, size_t ldc, const float* row_scale = nullptr) {
  const size_t mr = gv.mr, nr = gv.nr;
  const unsigned flags = row_scale ? kGemmRowScale : 0u;
  for (size_t j = 0; j < n; j += nr)
    for (size_t i = 0; i < m; i += mr)
      gv.ukernel_sa(std::min(mr, m - i), std::min(nr, n - j), kc, a + i * lda, lda, bp + (j / nr) * kc * nr,
                    c + i * ldc + j, ldc, flags, row_scale ? row_scale + i : nullptr, kActNone);
}

void attention_task(const F32GemmVariant& gv, const F32EltwiseVariant& ev, const F32TransposeVariant& tv,
                    const F32AttentionArgs& a, size_t b, size_t h) {
  const size_t sq = a.seq_q, sk = a.seq_k, dk = a.dk, dv = a.dv, mr = gv.mr, nr = gv.nr;
  float* out = a.out + b * a.out_batch + h * a.out_head;
  if (sk == 0) {
    // Softmax over no keys: no terms, the context is 0.
    for (size_t i = 0; i < sq; i++) std::fill(out + i * a.out_row, out + i * a.out_row + dv, 0.0f);
    return;
  }
  const float* q = a.q.ptr + b * a.q.batch + h * a.q.head;
  const float* k = a.k.ptr + b * a.k.batch + h * a.k.head;
  const float* v = a.v.ptr + b * a.v.batch + h * a.v.head;
  float* kp = t_kpack.get(std::max<size_t>(packed_b_f32_floats(dk, sk, nr), 1));
  float* vp = t_vpack.get(std::max<size_t>(packed_b_f32_floats(sk, dv, nr), 1));
  pack_kt(tv, k, a.k.row, dk, sk, nr, kp);  // B = Kᵀ: K × N = dk × sk, read from K's rows
  pack_b_f32(v, a.v.row, false, sk, dv, nr, vp);
  const size_t rb = row_block(mr, sq, sk);
  float* s = t_scores.get(rb * sk);
  float* inv = t_inv.get(rb);
  const float* mask = a.mask ? a.mask + b * a.ms[0] + h * a.ms[1] : nullptr;
  // A mask of one value per query row (column broadcast, or a scalar) is added as a row of its copies.
  float* mrow = mask && a.ms[3] == 0 ? t_mrow.get(sk) : nullptr;
  for (size_t i0 = 0; i0 < sq; i0 += rb) {
    const size_t m = std::min(rb, sq - i0);
    tile_gemm(gv, m, sk, dk, q + i0 * a.q.row, a.q.row, kp, s, sk);
    // The scale and the mask fold into the softmax's first pass; its 1/Σ waits for the context rows (dv wide), which
    // the P·V microkernel scales in its registers before its one store (kGemmRowScale).
    if (!mrow) {
      ev.softmax_scaled(m, sk, s, a.scale, mask ? mask + i0 * a.ms[2] : nullptr, a.ms[2], s, inv);
    } else {
      for (size_t r = 0; r < m; r++) {
        std::fill(mrow, mrow + sk, mask[(i0 + r) * a.ms[2]]);
        ev.softmax_scaled(1, sk, s + r * sk, a.scale, mrow, 0, s + r * sk, inv + r);
      }
    }
    float* o = out + i0 * a.out_row;
    tile_gemm(gv, m, dv, sk, s, sk, vp, o, a.out_row, inv);
  }
}

}  // namespace

void f32_attention_run(const F32GemmVariant& gv, const F32EltwiseVariant& ev, const F32AttentionArgs& a) {
  if (a.batch == 0 || a.heads == 0 || a.seq_q == 0 || a.dv == 0) return;
  const F32TransposeVariant& tv = f32_transpose_table.select();
  parallel_for(a.batch * a.heads, [&](size_t t) { attention_task(gv, ev, tv, a, t / a.heads, t % a.heads); });
}

void f32_attention_reference(const F32AttentionArgs& a) {
  std::vector<double> row(a.seq_k);
  for (size_t b = 0; b < a.batch; b++)
    for (size_t h = 0; h < a.heads; h++)
      for (size_t i = 0; i < a.seq_q; i++) {
        const float* q = a.q.ptr + b * a.q.batch + i * a.q.row + h * a.q.head;
        double mx = -INFINITY;
        for (size_t j = 0; j < a.seq_k; j++) {
          const float* k = a.k.ptr + b * a.k.batch + j * a.k.row + h * a.k.head;
          double d = 0;
          for (size_t c = 0; c < a.dk; c++) d += double(q[c]) * double(k[c]);
          d = double(float(d) * a.scale);
          if (a.mask) d += a.mask[b * a.ms[0] + h * a.ms[1] + i * a.ms[2] + j * a.ms[3]];
          row[j] = d;
          mx = std::max(mx, d);
        }
        double sum = 0;
        for (size_t j = 0; j < a.seq_k; j++) sum += (row[j] = std::exp(row[j] - mx));
        float* o = a.out + b * a.out_batch + i * a.out_row + h * a.out_head;
        for (size_t c = 0; c < a.dv; c++) {
          double acc = 0;
          for (size_t j = 0; j < a.seq_k; j++) acc += row[j] / sum * double(a.v.ptr[b * a.v.batch + j * a.v.row + h * a.v.head + c]);
          o[c] = float(acc);
        }
      }
}

}  // namespace simdtensor
