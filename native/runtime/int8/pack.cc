// int8 GEMM packing (plain C++: O(K·N) once per weight, O(M·K) per call).
#include "runtime/int8/pack.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace simdtensor {

size_t packed_b_s8_bytes(size_t n, size_t nr, size_t kpad) { return (n + nr - 1) / nr * nr * kpad; }

void pack_b_s8(const void* bv, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n, const S8PanelLayout& l,
               int8_t* out) {
  const uint8_t* b = static_cast<const uint8_t*>(bv);
  const uint8_t flip = b_unsigned ? 0x80 : 0x00;
  const size_t nr = l.nr, g = l.kgroup, panels = (n + nr - 1) / nr;
  std::memset(out, 0, panels * nr * l.kpad);
  for (size_t jp = 0; jp < panels; jp++) {
    int8_t* panel = out + jp * nr * l.kpad;
    const size_t j1 = jp * nr + nr < n ? jp * nr + nr : n;
    for (size_t j = jp * nr; j < j1; j++) {
      int8_t* col = panel + (j - jp * nr) * g;
      if (trans_b) {
        const uint8_t* src = b + j * ldb;
        for (size_t p = 0; p < k; p++) col[(p / g) * nr * g + p % g] = int8_t(src[p] ^ flip);
      } else {
        for (size_t p = 0; p < k; p++) col[(p / g) * nr * g + p % g] = int8_t(b[p * ldb + j] ^ flip);
      }
    }
  }
}

void repack_b_s8(const int8_t* src, const S8PanelLayout& from, size_t k, size_t n, const S8PanelLayout& to, int8_t* out) {
  const size_t panels = (n + to.nr - 1) / to.nr;
  std::memset(out, 0, panels * to.nr * to.kpad);
  for (size_t j = 0; j < n; j++) {
    const int8_t* s = src + (j / from.nr) * from.nr * from.kpad + (j % from.nr) * from.kgroup;
    int8_t* d = out + (j / to.nr) * to.nr * to.kpad + (j % to.nr) * to.kgroup;
    for (size_t p = 0; p < k; p++)
      d[(p / to.kgroup) * to.nr * to.kgroup + p % to.kgroup] = s[(p / from.kgroup) * from.nr * from.kgroup + p % from.kgroup];
  }
}

void s8_b_column_sums(const void* bv, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n, int32_t* out) {
  const uint8_t* b = static_cast<const uint8_t*>(bv);
  const uint8_t flip = b_unsigned ? 0x80 : 0x00;
  for (size_t j = 0; j < n; j++) out[j] = 0;
  for (size_t j = 0; j < n && trans_b; j++) {
    int64_t s = 0;
    for (size_t p = 0; p < k; p++) s += int8_t(b[j * ldb + p] ^ flip);
    out[j] = int32_t(uint32_t(uint64_t(s)));
  }
  if (!trans_b) {
    for (size_t p = 0; p < k; p++)
      for (size_t j = 0; j < n; j++) out[j] = int32_t(uint32_t(out[j]) + uint32_t(int32_t(int8_t(b[p * ldb + j] ^ flip))));
  }
}

int32_t s8_a_offset(const S8GemmVariant& v, bool a_unsigned) {
  if (v.a_signed) return a_unsigned ? -128 : 0;
  return a_unsigned ? 0 : 128;
}

size_t packed_a_s8_bytes(const S8GemmVariant& v, size_t m, size_t kpad) { return (m + v.mr - 1) / v.mr * v.mr * kpad; }

namespace {
// One full C4 tile of MR rows: k-group outer so the writes are one contiguous MR×4-byte run per group (the
// compiler turns the fixed-size inner loop into vector moves); each source row is read sequentially.
template <size_t MR>
void pack_a_c4_full_tile(const uint8_t* const* rows, size_t kgroups, uint32_t flip, uint8_t* out) {
  for (size_t g = 0; g < kgroups; g++) {
    uint32_t w[MR];
    for (size_t i = 0; i < MR; i++) {
      std::memcpy(&w[i], rows[i] + 4 * g, 4);
      w[i] ^= flip;
    }
    std::memcpy(out + g * MR * 4, w, MR * 4);
  }
}
#if defined(__SSE2__)
// SSE2 (x86-64 baseline): 4 rows × 4 k-groups at a time, a 4×4 transpose of 32-bit groups; MR a multiple of 4.
template <size_t MR>
void pack_a_c4_full_tile_sse2(const uint8_t* const* rows, size_t kgroups, uint32_t flip, uint8_t* out) {
  const __m128i f = _mm_set1_epi32(int(flip));
  size_t g = 0;
  for (; g + 4 <= kgroups; g += 4) {
    for (size_t r = 0; r < MR; r += 4) {
      const __m128i r0 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[r] + 4 * g)), f);
      const __m128i r1 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[r + 1] + 4 * g)), f);
      const __m128i r2 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[r + 2] + 4 * g)), f);
      const __m128i r3 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[r + 3] + 4 * g)), f);
      const __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpackhi_epi32(r0, r1);
      const __m128i t2 = _mm_unpacklo_epi32(r2, r3), t3 = _mm_unpackhi_epi32(r2, r3);
      uint8_t* o = out + g * MR * 4 + r * 4;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_unpacklo_epi64(t0, t2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + MR * 4), _mm_unpackhi_epi64(t0, t2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 2 * MR * 4), _mm_unpacklo_epi64(t1, t3));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 3 * MR * 4), _mm_unpackhi_epi64(t1, t3));
    }
  }
  const uint8_t* rest[MR];
  for (size_t i = 0; i < MR; i++) rest[i] = rows[i] + 4 * g;
  pack_a_c4_full_tile<MR>(rest, kgroups - g, flip, out + g * MR * 4);
}
#endif
using PackTileFn = void (*)(const uint8_t* const*, size_t, uint32_t, uint8_t*);
PackTileFn pack_tile_for(size_t mr) {
  switch (mr) {
#if defined(__SSE2__)
    case 4: return &pack_a_c4_full_tile_sse2<4>;
    case 8: return &pack_a_c4_full_tile_sse2<8>;
    case 12: return &pack_a_c4_full_tile_sse2<12>;
    case 16: return &pack_a_c4_full_tile_sse2<16>;
#else
    case 4: return &pack_a_c4_full_tile<4>;
    case 8: return &pack_a_c4_full_tile<8>;
    case 12: return &pack_a_c4_full_tile<12>;
    case 16: return &pack_a_c4_full_tile<16>;
#endif
    case 6: return &pack_a_c4_full_tile<6>;
    default: return nullptr;
  }
}
}  // namespace

void pack_a_s8(const S8GemmVariant& v, const void* av, bool a_unsigned, size_t lda, size_t m, size_t k, size_t kpad,
               uint8_t* out, int32_t* rowsums) {
  const uint8_t* a = static_cast<const uint8_t*>(av);
  const uint32_t flip = s8_a_offset(v, a_unsigned) != 0 ? 0x80808080u : 0u;
  const size_t mr = v.mr, tiles = (m + mr - 1) / mr;
  const size_t kfull = k / 4 * 4;
  const size_t kg = v.kgroup;
  const PackTileFn fast = v.a_layout == S8ALayout::kGroups && kg == 4 ? pack_tile_for(mr) : nullptr;
  for (size_t t = 0; t < tiles; t++) {
    uint8_t* tile = out + t * mr * kpad;
    if (fast && t * mr + mr <= m && mr <= 16) {
      const uint8_t* rows[16];
      for (size_t i = 0; i < mr; i++) rows[i] = a + (t * mr + i) * lda;
      fast(rows, kfull / 4, flip, tile);
    }
    for (size_t i = 0; i < mr; i++) {
      const size_t row = t * mr + i;
      // Destination of 4-byte unit u of this row, and the distance between consecutive units: u = g·(kg/4) + h
      // (h-th 4 bytes of k-group g) lands at d + g·gstride + 4h.
      uint8_t* d = v.a_layout == S8ALayout::kGroups ? tile + i * kg : tile + i * kpad;
      const size_t gstride = v.a_layout == S8ALayout::kGroups ? mr * kg : kg;
      const size_t upg = kg / 4;  // 4-byte units per k-group
      auto unit = [&](size_t u) { return d + (u / upg) * gstride + (u % upg) * 4; };
      if (row >= m) {
        for (size_t u = 0; u < kpad / 4; u++) std::memset(unit(u), 0, 4);
        continue;
      }
      const uint8_t* src = a + row * lda;
      size_t g = 0;
      if (fast && t * mr + mr <= m) {
        g = kfull / 4;  // full groups already written by the tile packer
      } else {
        for (size_t p = 0; p < kfull; p += 4, g++) {
          uint32_t x;
          std::memcpy(&x, src + p, 4);
          x ^= flip;
          std::memcpy(unit(g), &x, 4);
        }
      }
      if (kfull < k) {
        uint8_t tail[4] = {0, 0, 0, 0};
        for (size_t p = kfull; p < k; p++) tail[p - kfull] = uint8_t(src[p] ^ uint8_t(flip));
        std::memcpy(unit(g), tail, 4);
        g++;
      }
      for (; g < kpad / 4; g++) std::memset(unit(g), 0, 4);
      if (rowsums) {
        uint32_t s = 0;
        for (size_t p = 0; p < k; p++) {
          const uint8_t x = uint8_t(src[p] ^ uint8_t(flip));
          s += v.a_signed ? uint32_t(int32_t(int8_t(x))) : uint32_t(x);
        }
        rowsums[row] = int32_t(s);
      }
    }
  }
}

}  // namespace simdtensor
