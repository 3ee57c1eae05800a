// f32 sparse-weight matmul for AVX-512: xt kernels over zmm (M tile 64; ymm for M <= 8); row kernels gather 16 activations per
// vgatherdps for CSR and N:M (one index per value), and use zmm/ymm dot products for blocks.
#include "common/vec_avx2.h"
#include "common/vec_avx512.h"
#include "kernels/spmm-common/avx512.h"
#include "kernels/f32-spmm/chunk_lanes_avx2.h"
#include "kernels/f32-spmm/ukernel.h"

namespace simdtensor {
namespace {

template <int MM>
inline void gather_fma(__m512 (&acc)[MM], __mmask16 k, __m512i idx, __m512 wv, const float* x, size_t ldx) {
  for (int i = 0; i < MM; i++) {
    const __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, idx, x + size_t(i) * ldx, 4);
    acc[i] = _mm512_fmadd_ps(wv, g, acc[i]);
  }
}

template <class Idx, int MM>
void csr_row_gather(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, float* out,
                    size_t ldo) {
  const Idx* col = static_cast<const Idx*>(w.idx);
  const float* val = w.val;
  for (size_t r = r0; r < r1; r++) {
    size_t j = w.ptr[r];
    const size_t e = w.ptr[r + 1];
    __m512 a0[MM], a1[MM];
    for (int i = 0; i < MM; i++) a0[i] = a1[i] = _mm512_setzero_ps();
    for (; j + 32 <= e; j += 32) {
      gather_fma<MM>(a0, 0xffff, spmm_load_idx(col + j, 0xffff), _mm512_loadu_ps(val + j), x, ldx);
      gather_fma<MM>(a1, 0xffff, spmm_load_idx(col + j + 16, 0xffff), _mm512_loadu_ps(val + j + 16), x, ldx);
    }
    if (j < e) {
      const size_t c = e - j < 16 ? e - j : 16;
      const __mmask16 k = __mmask16((1u << c) - 1u);
      gather_fma<MM>(a0, k, spmm_load_idx(col + j, k), _mm512_maskz_loadu_ps(k, val + j), x, ldx);
      j += c;
    }
    if (j < e) {
      const __mmask16 k = __mmask16((1u << (e - j)) - 1u);
      gather_fma<MM>(a1, k, spmm_load_idx(col + j, k), _mm512_maskz_loadu_ps(k, val + j), x, ldx);
    }
    for (int i = 0; i < MM; i++) out[size_t(i) * ldo + r] = _mm512_reduce_add_ps(_mm512_add_ps(a0[i], a1[i]));
  }
}

// N:M with NN dividing 16: 16 slots = 16/NN whole groups; offsets are two nibbles per byte.
template <int MM>
void nm_row_gather(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, float* out,
                   size_t ldo) {
  const size_t G = w.nm_groups(), mm = w.nm_m, nn = w.nm_n, per_row = G * nn, rbytes = w.nm_row_bytes();
  alignas(64) int32_t lane[16];
  for (int l = 0; l < 16; l++) lane[l] = int32_t((size_t(l) / nn) * mm);
  const __m512i lane_base = _mm512_load_si512(lane);
  const __m512i shifts = _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0);
  const __m512i fifteen = _mm512_set1_epi32(15);
  const size_t step_k = (16 / nn) * mm;
  for (size_t r = r0; r < r1; r++) {
    const float* vr = w.val + r * per_row;
    const uint8_t* ib = w.nib + r * rbytes;
    __m512 a0[MM], a1[MM];
    for (int i = 0; i < MM; i++) a0[i] = a1[i] = _mm512_setzero_ps();
    size_t t = 0, kb = 0;
    auto chunk = [&](__m512 (&acc)[MM], __mmask16 k, size_t cnt) {
      const __mmask16 bk = __mmask16((1u << ((cnt + 1) / 2)) - 1u);
      const __m128i b8 = _mm_maskz_loadu_epi8(bk, ib + t / 2);
      const __m512i off = _mm512_and_si512(_mm512_srlv_epi32(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(b8, b8)), shifts),
                                           fifteen);
      const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(int32_t(kb)), _mm512_add_epi32(lane_base, off));
      gather_fma<MM>(acc, k, idx, _mm512_maskz_loadu_ps(k, vr + t), x, ldx);
      t += 16;
      kb += step_k;
    };
    for (; t + 32 <= per_row;) {
      chunk(a0, 0xffff, 16);
      chunk(a1, 0xffff, 16);
    }
    if (t < per_row) {
      const size_t c = per_row - t < 16 ? per_row - t : 16;
      chunk(a0, __mmask16((1u << c) - 1u), c);
    }
    if (t < per_row) chunk(a1, __mmask16((1u << (per_row - t)) - 1u), per_row - t);
    for (int i = 0; i < MM; i++) out[size_t(i) * ldo + r] = _mm512_reduce_add_ps(_mm512_add_ps(a0[i], a1[i]));
  }
}

// N:M where 16 slots span a 32- or 64-float window of x (2:4, 4:8, 1:2 / 1:4, 2:8, 4:16): the selected
// activations come from contiguous loads and one or two vpermt2ps instead of a gather.
template <int MM, int WIN>
void nm_row_perm(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, float* out, size_t ldo) {
  const size_t mm = w.nm_m, nn = w.nm_n, per_row = w.nm_groups() * nn, rbytes = w.nm_row_bytes(), K = w.k;
  alignas(64) int32_t lane[16];
  for (int l = 0; l < 16; l++) lane[l] = int32_t((size_t(l) / nn) * mm);
  const __m512i lane_base = _mm512_load_si512(lane);
  const __m512i shifts = _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0);
  const __m512i fifteen = _mm512_set1_epi32(15);
  for (size_t r = r0; r < r1; r++) {
    const float* vr = w.val + r * per_row;
    const uint8_t* ib = w.nib + r * rbytes;
    __m512 a0[MM], a1[MM];
    for (int i = 0; i < MM; i++) a0[i] = a1[i] = _mm512_setzero_ps();
    auto chunk = [&](__m512 (&acc)[MM], size_t t, size_t cnt) {
      const size_t kb = t / nn * mm;
      const __mmask16 k = __mmask16((1u << cnt) - 1u);
      const __mmask16 bk = __mmask16((1u << ((cnt + 1) / 2)) - 1u);
      const __m128i b8 = _mm_maskz_loadu_epi8(bk, ib + t / 2);
      const __m512i idx = _mm512_add_epi32(
          lane_base, _mm512_and_si512(_mm512_srlv_epi32(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(b8, b8)), shifts), fifteen));
      const __m512 wv = _mm512_maskz_loadu_ps(k, vr + t);
      const bool full = kb + WIN <= K;
      for (int i = 0; i < MM; i++) {
        const float* xp = x + size_t(i) * ldx + kb;
        __m512 xs[WIN / 16];
        for (int q = 0; q < WIN / 16; q++) {
          const size_t rem = K - kb > size_t(q) * 16 ? K - kb - size_t(q) * 16 : 0;
          xs[q] = full ? _mm512_loadu_ps(xp + q * 16)
                       : _mm512_maskz_loadu_ps(__mmask16(rem >= 16 ? 0xffffu : (1u << rem) - 1u), xp + q * 16);
        }
        __m512 sel = _mm512_permutex2var_ps(xs[0], idx, xs[1]);
        if constexpr (WIN == 64) {
          const __m512 hi = _mm512_permutex2var_ps(xs[2], idx, xs[3]);
          sel = _mm512_mask_blend_ps(_mm512_test_epi32_mask(idx, _mm512_set1_epi32(32)), sel, hi);
        }
        acc[i] = _mm512_fmadd_ps(wv, sel, acc[i]);
      }
    };
    size_t t = 0;
    for (; t + 32 <= per_row; t += 32) {
      chunk(a0, t, 16);
      chunk(a1, t + 16, 16);
    }
    for (; t < per_row; t += 16) chunk(a0, t, per_row - t < 16 ? per_row - t : 16);
    for (int i = 0; i < MM; i++) out[size_t(i) * ldo + r] = _mm512_reduce_add_ps(_mm512_add_ps(a0[i], a1[i]));
  }
}


void csr_row(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m, float* out,
             size_t ldo) {
  spmm_csr_by_m(w, m, [&](auto idx, auto mm) {
    csr_row_gather<decltype(idx), decltype(mm)::value>(w, r0, r1, x, ldx, out, ldo);
  });
}

void nm_row(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m, float* out,
            size_t ldo) {
  if (16 % w.nm_n != 0) return spmm_nm_row_scalar(w, r0, r1, x, ldx, m, out, ldo);
  const size_t win = 16 / w.nm_n * w.nm_m;
  spmm_by_m(m, [&](auto mm) {
    constexpr int MM = decltype(mm)::value;
    if (win == 32) nm_row_perm<MM, 32>(w, r0, r1, x, ldx, out, ldo);
    else if (win == 64) nm_row_perm<MM, 64>(w, r0, r1, x, ldx, out, ldo);
    else nm_row_gather<MM>(w, r0, r1, x, ldx, out, ldo);
  });
}

// Blocks narrower than a zmm use ymm dot products (masked for bw < 8).
void bsr_row(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, size_t m, float* out,
             size_t ldo) {
  if (w.bw <= 8) return spmm_bsr_row_any<VecAvx2>(w, r0, r1, x, ldx, m, out, ldo);
  spmm_bsr_row_any<VecAvx512>(w, r0, r1, x, ldx, m, out, ldo);
}

// N:M panel selection: the group's m activations as one zmm (broadcast when m divides 16) and a vpermps by the
// 4-bit offsets (only their low bits are read, so the next slots' nibbles above them need no masking).
struct PanelSel {
  using I = __m512i;
  using Win = __m512;
  static I load_off(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static I shr4(I v) { return _mm512_srli_epi32(v, 4); }
  static I shr(I v, unsigned bits) { return _mm512_srl_epi32(v, _mm_cvtsi32_si128(int(bits))); }
  template <int MM>
  static Win window(const float* p, size_t mm) {
    if constexpr (MM == 4) return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
    else if constexpr (MM == 8) return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd(reinterpret_cast<const double*>(p))));
    else if constexpr (MM == 16) return _mm512_loadu_ps(p);
    else return _mm512_maskz_loadu_ps(__mmask16((1u << mm) - 1u), p);
  }
  template <int MM>
  static __m512 pick(Win w, I off) {
    if constexpr (MM == 4) return _mm512_permutevar_ps(w, off);  // in-lane vpermilps: the window is in every lane
    else return _mm512_permutexvar_ps(off, w);
  }
};

// Chunked CSR: a chunk's weights as one vector load (8 or 4 floats); vpermps broadcasts lane s in registers.
struct ChunkLanes {
  using P = __m512;
  template <int CH>
  static P load(const float* p) {
    if constexpr (CH == 8) return _mm512_castps256_ps512(_mm256_loadu_ps(p));
    else return _mm512_castps128_ps512(_mm_loadu_ps(p));
  }
  template <int S>
  static __m512 lane(P w) { return _mm512_permutexvar_ps(_mm512_set1_epi32(S), w); }
};

}  // namespace

const F32SpmmVariant f32_spmm__avx512f = {
    "f32_spmm__avx512f", Isa::kAvx512, 16, 4, 16,
    {&spmm_csr_xt_nv<VecAvx512, 4>, &spmm_bsr_xt_nv<VecAvx512, 4, 16>, &spmm_nm_xt_nv<VecAvx512, 4, 16>},
    {&csr_row, &bsr_row, &nm_row},
    &spmm_epilogue<VecAvx512>,
    {"f32_spmm_csr_xt64__avx512f", "f32_spmm_bsr_xt64__avx512f", "f32_spmm_nm_xt64__avx512f"},
    {"f32_spmm_csr_row__avx512f", "f32_spmm_bsr_row__avx512f", "f32_spmm_nm_row__avx512f"},
    8,
    {&spmm_csr_xt_nv<VecAvx2, 1>, &spmm_bsr_xt_nv<VecAvx2, 1, 16>, &spmm_nm_xt_nv<VecAvx2, 1, 16>},
    {"f32_spmm_csr_xt8__avx512f", "f32_spmm_bsr_xt8__avx512f", "f32_spmm_nm_xt8__avx512f"},
    16, 16, &spmm_nm_panel_any<VecAvx512, PanelSel, 16>, "f32_spmm_nm_8x16__avx512f",
    &spmm_csr_chunks_xt_nv<VecAvx512, ChunkLanes, 4>, "f32_spmm_csr_chunks_xt64__avx512f",
    &spmm_csr_chunks_xt_nv<VecAvx2, ChunkLanesYmm, 1>, "f32_spmm_csr_chunks_xt8__avx512f"};

}  // namespace simdtensor
