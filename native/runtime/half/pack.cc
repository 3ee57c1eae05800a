// Packing for the half GEMM family (portable C++; A packing is O(M·K) against O(M·K·N) compute, and half A is
// widened by the SIMD converters before the transpose).
#include "runtime/half/pack.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/half-convert/half-convert.h"
#include "runtime/f32/pack.h"

namespace simdtensor {
namespace {
// Position of column jj (0 <= jj < nr) inside one K step (kr 1) or K-pair row (kr 2) of a panel.
size_t col_pos(const HalfBLayout& L, size_t jj) {
  if (L.kr == 2) return 2 * jj;
  if (L.ilv == 0) return jj;
  const size_t blk = jj / (2 * L.ilv), t = jj % (2 * L.ilv);
  return blk * 2 * L.ilv + (t < L.ilv ? 2 * t : 2 * (t - L.ilv) + 1);
}
// Offset of K step p inside a panel.
size_t row_off(const HalfBLayout& L, size_t p) { return L.kr == 2 ? (p / 2) * 2 * L.nr + (p & 1) : p * L.nr; }
}  // namespace

size_t packed_b_half_count(size_t k, size_t n, const HalfBLayout& L) {
  return ((n + L.nr - 1) / L.nr) * L.nr * round_up(k, L.kpad);
}

size_t packed_b_half_index(size_t k, const HalfBLayout& L, size_t p, size_t j) {
  return (j / L.nr) * round_up(k, L.kpad) * L.nr + row_off(L, p) + col_pos(L, j % L.nr);
}

void pack_b_half(const uint16_t* b, size_t ldb, bool trans_b, size_t k, size_t n, const HalfBLayout& L, uint16_t* out) {
  const size_t nr = L.nr, kp = round_up(k, L.kpad), panels = (n + nr - 1) / nr;
  const size_t count = packed_b_half_count(k, n, L);
  if (count == 0) return;  // k == 0 or n == 0: nothing to pack, out may be null
  std::memset(out, 0, count * sizeof(uint16_t));
  std::vector<size_t> pos(nr);
  for (size_t jj = 0; jj < nr; jj++) pos[jj] = col_pos(L, jj);
  for (size_t jp = 0; jp < panels; jp++) {
    const size_t j0 = jp * nr, nv = n - j0 < nr ? n - j0 : nr;
    uint16_t* dst = out + jp * kp * nr;
    if (trans_b) {
      for (size_t jj = 0; jj < nv; jj++) {
        const uint16_t* src = b + (j0 + jj) * ldb;
        for (size_t p = 0; p < k; p++) dst[row_off(L, p) + pos[jj]] = src[p];
      }
    } else {
      for (size_t p = 0; p < k; p++) {
        const uint16_t* src = b + p * ldb + j0;
        uint16_t* d = dst + row_off(L, p);
        for (size_t jj = 0; jj < nv; jj++) d[pos[jj]] = src[jj];
      }
    }
  }
}

void repack_b_half(const uint16_t* in, const HalfBLayout& from, size_t k, size_t n, const HalfBLayout& to, uint16_t* out) {
  const size_t count = packed_b_half_count(k, n, to);
  if (count == 0) return;  // empty: out may be null
  std::memset(out, 0, count * sizeof(uint16_t));
  for (size_t j = 0; j < n; j++)
    for (size_t p = 0; p < k; p++) out[packed_b_half_index(k, to, p, j)] = in[packed_b_half_index(k, from, p, j)];
}

float max_abs(const void* x, ElemType t, size_t m, size_t k, size_t ld) {
  if (t == ElemType::kF32) {
    const float* f = static_cast<const float*>(x);
    float mx = 0.0f;
    for (size_t i = 0; i < m; i++)
      for (size_t p = 0; p < k; p++) {
        const float v = std::fabs(f[i * ld + p]);
        mx = v > mx ? v : mx;
        if (v != v) return INFINITY;
      }
    return mx;
  }
  // The magnitude bits order like the values; NaN sorts above Inf. Integer max vectorises.
  const uint16_t* h = static_cast<const uint16_t*>(x);
  uint16_t mx = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t p = 0; p < k; p++) {
      const uint16_t v = uint16_t(h[i * ld + p] & 0x7fffu);
      mx = v > mx ? v : mx;
    }
  if (t == ElemType::kF16) {
    if (mx >= 0x7c00u) return INFINITY;
    float f;
    f16_to_f32(1, &mx, &f);
    return f;
  }
  if (mx >= 0x7f80u) return INFINITY;
  float f;
  bf16_to_f32(1, &mx, &f);
  return f;
}

size_t packed_a_tile_bytes(const HalfGemmVariant& v, size_t kc) {
  switch (v.a) {
    case HalfAPack::kF32: return v.mr * kc * sizeof(float);
    case HalfAPack::kHalf: return v.mr * kc * sizeof(uint16_t);
    case HalfAPack::kPairs: return v.mr * ((kc + 1) / 2) * sizeof(uint32_t);
    case HalfAPack::kRows: return v.mr * round_up(kc, 32) * sizeof(uint16_t);
    case HalfAPack::kHalfDup: return v.mr * kc * sizeof(uint32_t);
  }
  return 0;
}

void pack_a_half(const HalfGemmVariant& v, const void* a, ElemType t, size_t lda, size_t m, size_t p0, size_t kc,
                 void* out, float* tmp) {
  const size_t mr = v.mr;
  if (v.a == HalfAPack::kF32) {
    if (t == ElemType::kF32) {
      pack_a_f32(static_cast<const float*>(a) + p0, lda, m, kc, mr, static_cast<float*>(out));
      return;
    }
    const uint16_t* h = static_cast<const uint16_t*>(a);
    const HalfCvtVariant& cv = half_cvt_select(t == ElemType::kF16 ? HalfCvtKind::kF16ToF32 : HalfCvtKind::kBf16ToF32);
    for (size_t i = 0; i < m; i++) cv.fn(kc, h + i * lda + p0, tmp + i * kc);
    pack_a_f32(tmp, kc, m, kc, mr, static_cast<float*>(out));
    return;
  }
  // The half formats take A in B's type as is (the selection guarantees t matches).
  const uint16_t* h = static_cast<const uint16_t*>(a) + p0;
  const size_t tiles = (m + mr - 1) / mr;
  for (size_t tile = 0; tile < tiles; tile++) {
    const size_t i0 = tile * mr, mv = m - i0 < mr ? m - i0 : mr;
    char* base = static_cast<char*>(out) + tile * packed_a_tile_bytes(v, kc);
    if (v.a == HalfAPack::kHalf) {
      uint16_t* d = reinterpret_cast<uint16_t*>(base);
      for (size_t p = 0; p < kc; p++)
        for (size_t i = 0; i < mv; i++) d[p * mr + i] = h[(i0 + i) * lda + p];
    } else if (v.a == HalfAPack::kHalfDup) {
      uint32_t* d = reinterpret_cast<uint32_t*>(base);
      for (size_t p = 0; p < kc; p++)
        for (size_t i = 0; i < mv; i++) d[p * mr + i] = uint32_t(h[(i0 + i) * lda + p]) * 0x10001u;
    } else if (v.a == HalfAPack::kPairs) {
      uint32_t* d = reinterpret_cast<uint32_t*>(base);
      const size_t kq = (kc + 1) / 2;
      for (size_t q = 0; q < kq; q++)
        for (size_t i = 0; i < mv; i++) {
          const uint16_t* row = h + (i0 + i) * lda;
          const uint32_t lo = row[2 * q], hi = 2 * q + 1 < kc ? row[2 * q + 1] : 0u;
          d[q * mr + i] = lo | (hi << 16);
        }
    } else {  // kRows
      uint16_t* d = reinterpret_cast<uint16_t*>(base);
      const size_t kp = round_up(kc, 32);
      for (size_t i = 0; i < mr; i++) {
        uint16_t* drow = d + i * kp;
        if (i < mv) {
          std::memcpy(drow, h + (i0 + i) * lda, kc * sizeof(uint16_t));
          std::memset(drow + kc, 0, (kp - kc) * sizeof(uint16_t));
        } else {
          std::memset(drow, 0, kp * sizeof(uint16_t));
        }
      }
    }
  }
}

}  // namespace simdtensor
