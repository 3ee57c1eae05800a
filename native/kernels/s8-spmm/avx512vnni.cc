// int8 sparse-weight linear for AVX-512 VNNI: each stored group of 4 weights is one vpdpbusd operand. Row kernel:
// 16 groups per vpgatherdd of activation words; xt kernel: 64 activation rows per tile, one broadcast per group.
#include "common/vec_avx512.h"
#include "kernels/spmm-common/avx512.h"
#include "common/unroll.h"
#include "kernels/s8-spmm/ukernel.h"

namespace simdtensor {
namespace {

template <int MM>
inline void gather_dot(__m512i (&acc)[MM], __mmask16 k, __m512i idx, __m512i wv, const uint8_t* xq, size_t ldx) {
  ST_UNROLL
  for (int i = 0; i < MM; i++) {
    const __m512i xg = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, idx, xq + size_t(i) * ldx, 4);
    acc[i] = _mm512_dpbusd_epi32(acc[i], xg, wv);
  }
}

template <class Idx, int MM>
void row_gather(const S8SparseView& w, size_t r0, size_t r1, const uint8_t* xq, size_t ldx, int32_t* acc, size_t ldacc) {
  const Idx* gi = static_cast<const Idx*>(w.gidx);
  for (size_t r = r0; r < r1; r++) {
    size_t j = w.ptr[r];
    const size_t e = w.ptr[r + 1];
    __m512i a0[MM], a1[MM];
    for (int i = 0; i < MM; i++) a0[i] = a1[i] = _mm512_setzero_si512();
    for (; j + 32 <= e; j += 32) {
      gather_dot<MM>(a0, 0xffff, spmm_load_idx(gi + j, 0xffff), _mm512_loadu_si512(w.gval + j), xq, ldx);
      gather_dot<MM>(a1, 0xffff, spmm_load_idx(gi + j + 16, 0xffff), _mm512_loadu_si512(w.gval + j + 16), xq, ldx);
    }
    while (j < e) {
      const size_t c = e - j < 16 ? e - j : 16;
      const __mmask16 k = __mmask16((1u << c) - 1u);
      gather_dot<MM>(a0, k, spmm_load_idx(gi + j, k), _mm512_maskz_loadu_epi32(k, w.gval + j), xq, ldx);
      j += c;
    }
    for (int i = 0; i < MM; i++) acc[size_t(i) * ldacc + r] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0[i], a1[i]));
  }
}

void row(const S8SparseView& w, size_t r0, size_t r1, const uint8_t* xq, size_t ldx, size_t m, int32_t* acc,
         size_t ldacc) {
  const bool s = w.idx16;
  switch (m) {
    case 1: return s ? row_gather<uint16_t, 1>(w, r0, r1, xq, ldx, acc, ldacc) : row_gather<uint32_t, 1>(w, r0, r1, xq, ldx, acc, ldacc);
    case 2: return s ? row_gather<uint16_t, 2>(w, r0, r1, xq, ldx, acc, ldacc) : row_gather<uint32_t, 2>(w, r0, r1, xq, ldx, acc, ldacc);
    case 3: return s ? row_gather<uint16_t, 3>(w, r0, r1, xq, ldx, acc, ldacc) : row_gather<uint32_t, 3>(w, r0, r1, xq, ldx, acc, ldacc);
    default: return s ? row_gather<uint16_t, 4>(w, r0, r1, xq, ldx, acc, ldacc) : row_gather<uint32_t, 4>(w, r0, r1, xq, ldx, acc, ldacc);
  }
}

template <int NV, class Idx>
void xt_nv(const S8SparseView& w, size_t r0, size_t r1, const int32_t* xq4t, const float* sx, const float* szx,
           float* outt, size_t ldt, const float* bias, int act) {
  constexpr size_t MT = size_t(NV) * 16;
  constexpr int U = NV >= 4 ? 2 : 8 / NV;
  const Idx* gi = static_cast<const Idx*>(w.gidx);
  __m512 vsx[NV], vszx[NV];
  for (int v = 0; v < NV; v++) {
    vsx[v] = _mm512_loadu_ps(sx + v * 16);
    vszx[v] = _mm512_loadu_ps(szx + v * 16);
  }
  for (size_t r = r0; r < r1; r++) {
    __m512i acc[U][NV];
    ST_UNROLL
    for (int u = 0; u < U; u++)
      ST_UNROLL
      for (int v = 0; v < NV; v++) acc[u][v] = _mm512_setzero_si512();
    size_t j = w.ptr[r];
    const size_t e = w.ptr[r + 1];
    for (; j + U <= e; j += U) {
      ST_UNROLL
      for (int u = 0; u < U; u++) {
        const int32_t* xp = xq4t + size_t(gi[j + u]) * MT;
        const __m512i wv = _mm512_set1_epi32(w.gval[j + u]);
        ST_UNROLL
        for (int v = 0; v < NV; v++) acc[u][v] = _mm512_dpbusd_epi32(acc[u][v], _mm512_loadu_si512(xp + v * 16), wv);
      }
    }
    for (; j < e; j++) {
      const int32_t* xp = xq4t + size_t(gi[j]) * MT;
      const __m512i wv = _mm512_set1_epi32(w.gval[j]);
      ST_UNROLL
      for (int v = 0; v < NV; v++) acc[0][v] = _mm512_dpbusd_epi32(acc[0][v], _mm512_loadu_si512(xp + v * 16), wv);
    }
    const __m512 rs = _mm512_set1_ps(float(w.rowsum[r])), sc = _mm512_set1_ps(w.scale[r]);
    const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0.0f);
    float* dst = outt + (r - r0) * ldt;
    ST_UNROLL
    for (int v = 0; v < NV; v++) {
      __m512i s = acc[0][v];
      for (int u = 1; u < U; u++) s = _mm512_add_epi32(s, acc[u][v]);
      const __m512 t = _mm512_fnmadd_ps(vszx[v], rs, _mm512_mul_ps(vsx[v], _mm512_cvtepi32_ps(s)));
      _mm512_storeu_ps(dst + v * 16, vact<VecAvx512>(_mm512_fmadd_ps(t, sc, b), act));
    }
  }
}

void xt(const S8SparseView& w, size_t r0, size_t r1, const int32_t* xq4t, size_t nv, const float* sx, const float* szx,
        float* outt, size_t ldt, const float* bias, int act) {
  const bool s = w.idx16;
  switch (nv) {
    case 1: return s ? xt_nv<1, uint16_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act) : xt_nv<1, uint32_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act);
    case 2: return s ? xt_nv<2, uint16_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act) : xt_nv<2, uint32_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act);
    case 3: return s ? xt_nv<3, uint16_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act) : xt_nv<3, uint32_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act);
    default: return s ? xt_nv<4, uint16_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act) : xt_nv<4, uint32_t>(w, r0, r1, xq4t, sx, szx, outt, ldt, bias, act);
  }
}

}  // namespace

const S8SpmmVariant s8_spmm__avx512vnni = {"s8_spmm__avx512vnni", Isa::kAvx512Vnni, 16, 4, &row,
                                           &s8_spmm_row_epilogue<VecAvx512>, &xt,
                                           "s8_spmm_g4_row__avx512vnni", "s8_spmm_g4_xt64__avx512vnni"};

}  // namespace simdtensor
