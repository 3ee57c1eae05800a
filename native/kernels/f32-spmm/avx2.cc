// f32 sparse-weight matmul for AVX2+FMA: xt kernels over ymm (M tile 32); row kernels gather 8 activations per
// vgatherdps for CSR and N:M (scalar tails), ymm dot products for blocks.
#include <cstring>

#include "common/vec_avx2.h"
#include "kernels/f32-spmm/chunk_lanes_avx2.h"
#include "kernels/f32-spmm/ukernel.h"

namespace simdtensor {
namespace {

inline __m256i load_idx8(const uint16_t* p) { return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256i load_idx8(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

template <int MM>
inline void gather_fma(__m256 (&acc)[MM], __m256i idx, __m256 wv, const float* x, size_t ldx) {
  for (int i = 0; i < MM; i++) acc[i] = _mm256_fmadd_ps(wv, _mm256_i32gather_ps(x + size_t(i) * ldx, idx, 4), acc[i]);
}

template <class Idx, int MM>
void csr_row_gather(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, float* out,
                    size_t ldo) {
  const Idx* col = static_cast<const Idx*>(w.idx);
  const float* val = w.val;
  for (size_t r = r0; r < r1; r++) {
    size_t j = w.ptr[r];
    const size_t e = w.ptr[r + 1];
    __m256 a0[MM], a1[MM];
    for (int i = 0; i < MM; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    for (; j + 16 <= e; j += 16) {
      gather_fma<MM>(a0, load_idx8(col + j), _mm256_loadu_ps(val + j), x, ldx);
      gather_fma<MM>(a1, load_idx8(col + j + 8), _mm256_loadu_ps(val + j + 8), x, ldx);
    }
    if (j + 8 <= e) {
      gather_fma<MM>(a0, load_idx8(col + j), _mm256_loadu_ps(val + j), x, ldx);
      j += 8;
    }
    for (int i = 0; i < MM; i++) {
      float s = VecAvx2::hsum(_mm256_add_ps(a0[i], a1[i]));
      const float* xr = x + size_t(i) * ldx;
      for (size_t t = j; t < e; t++) s += val[t] * xr[col[t]];
      out[size_t(i) * ldo + r] = s;
    }
  }
}

// N:M with NN dividing 8: 8 slots = 8/NN whole groups.
template <int MM>
void nm_row_gather(const F32SparseView& w, size_t r0, size_t r1, const float* x, size_t ldx, float* out,
                   size_t ldo) {
  const size_t G = w.nm_groups(), mm = w.nm_m, nn = w.nm_n, per_row = G * nn, rbytes = w.nm_row_bytes();
  alignas(32) int32_t lane[8];
  for (int l = 0; l < 8; l++) lane[l] = int32_t((size_t(l) / nn) * mm);
  const __m256i lane_base = _mm256_load_si256(reinterpret_cast<const __m256i*>(lane));
  const __m256i shifts = _mm256_set_epi32(4, 0, 4, 0, 4, 0, 4, 0);
  const __m256i fifteen = _mm256_set1_epi32(15);
  const size_t step_k = (8 / nn) * mm;
  for (size_t r = r0; r < r1; r++) {
    const float* vr = w.val + r * per_row;
    const uint8_t* ib = w.nib + r * rbytes;
    __m256 acc[MM];
    for (int i = 0; i < MM; i++) acc[i] = _mm256_setzero_ps();
    size_t t = 0, kb = 0;
    for (; t + 8 <= per_row; t += 8, kb += step_k) {
      int32_t b4;
      std::memcpy(&b4, ib + t / 2, 4);
      const __m128i b = _mm_cvtsi32_si128(b4);
      const __m256i off = _mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(_mm_unpacklo_epi8(b, b)), shifts), fifteen);
      const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(int32_t(kb)), _mm256_add_epi32(lane_base, off));
      gather_fma<MM>(acc, idx, _mm256_loadu_ps(vr + t), x, ldx);
    }
    for (int i = 0; i < MM; i++) {
      float s = VecAvx2::hsum(acc[i]);
      const float* xr = x + size_t(i) * ldx;
      for (size_t u = t; u < per_row; u++) s += vr[u] * xr[(u / nn) * mm + ((ib[u >> 1] >> ((u & 1) * 4)) & 15u)];
      out[size_t(i) * ldo + r] = s;
    }
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
  if (8 % w.nm_n != 0) return spmm_nm_row_scalar(w, r0, r1, x, ldx, m, out, ldo);
  spmm_by_m(m, [&](auto mm) { nm_row_gather<decltype(mm)::value>(w, r0, r1, x, ldx, out, ldo); });
}

// N:M panel selection for m <= 8: the group's window as one ymm (broadcast for m = 4, masked load for odd m) and a
// vpermps by the offsets' low 3 bits.
struct PanelSel {
  using I = __m256i;
  using Win = __m256;
  static I load_off(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I shr4(I v) { return _mm256_srli_epi32(v, 4); }
  static I shr(I v, unsigned bits) { return _mm256_srl_epi32(v, _mm_cvtsi32_si128(int(bits))); }
  template <int MM>
  static Win window(const float* p, size_t mm) {
    if constexpr (MM == 4) return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p));
    else if constexpr (MM == 8) return _mm256_loadu_ps(p);
    else return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(int(mm)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
  }
  template <int MM>
  static __m256 pick(Win w, I off) { return _mm256_permutevar8x32_ps(w, off); }
};


}  // namespace

const F32SpmmVariant f32_spmm__avx2 = {
    "f32_spmm__avx2", Isa::kAvx2, 8, 4, 8,
    {&spmm_csr_xt_nv<VecAvx2, 4>, &spmm_bsr_xt_nv<VecAvx2, 4, 8>, &spmm_nm_xt_nv<VecAvx2, 4, 8>},
    {&csr_row, &spmm_bsr_row_any<VecAvx2>, &nm_row},
    &spmm_epilogue<VecAvx2>,
    {"f32_spmm_csr_xt32__avx2", "f32_spmm_bsr_xt32__avx2", "f32_spmm_nm_xt32__avx2"},
    {"f32_spmm_csr_row__avx2", "f32_spmm_bsr_row__avx2", "f32_spmm_nm_row__avx2"},
    0, {nullptr, nullptr, nullptr}, {nullptr, nullptr, nullptr},
    8, 8, &spmm_nm_panel_any<VecAvx2, PanelSel, 8>, "f32_spmm_nm_8x8__avx2",
    &spmm_csr_chunks_xt_nv<VecAvx2, ChunkLanesYmm, 4>, "f32_spmm_csr_chunks_xt32__avx2",
    nullptr, nullptr};

}  // namespace simdtensor
