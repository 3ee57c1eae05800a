// Packing routines (portable C++; A packing is O(M·K) against O(M·K·N) compute).
#include "runtime/f32/pack.h"

#include <cstring>

namespace simdtensor {

size_t packed_b_f32_floats(size_t k, size_t n, size_t nr) { return ((n + nr - 1) / nr) * nr * k; }

void pack_b_f32(const float* b, size_t ldb, bool trans_b, size_t k, size_t n, size_t nr, float* out) {
  const size_t panels = (n + nr - 1) / nr;
  for (size_t jp = 0; jp < panels; jp++) {
    const size_t j0 = jp * nr;
    const size_t nv = n - j0 < nr ? n - j0 : nr;
    float* dst = out + jp * k * nr;
    if (!trans_b) {
      for (size_t p = 0; p < k; p++) {
        std::memcpy(dst + p * nr, b + p * ldb + j0, nv * sizeof(float));
        for (size_t j = nv; j < nr; j++) dst[p * nr + j] = 0.0f;
      }
    } else {
      for (size_t j = 0; j < nv; j++) {
        const float* src = b + (j0 + j) * ldb;
        for (size_t p = 0; p < k; p++) dst[p * nr + j] = src[p];
      }
      for (size_t j = nv; j < nr; j++)
        for (size_t p = 0; p < k; p++) dst[p * nr + j] = 0.0f;
    }
  }
}

void repack_b_f32(const float* src, size_t nr0, size_t k, size_t n, size_t nr, float* out) {
  const size_t panels = (n + nr - 1) / nr;
  for (size_t jp = 0; jp < panels; jp++)
    for (size_t kk = 0; kk < k; kk++)
      for (size_t j = 0; j < nr; j++) {
        const size_t col = jp * nr + j;
        out[(jp * k + kk) * nr + j] = col < n ? src[((col / nr0) * k + kk) * nr0 + col % nr0] : 0.0f;
      }
}

void pack_a_f32(const float* a, size_t lda, size_t m, size_t kc, size_t mr, float* out) {
  for (size_t i0 = 0; i0 < m; i0 += mr) {
    const size_t mv = m - i0 < mr ? m - i0 : mr;
    float* dst = out + i0 * kc;
    if (mv == mr) {
      for (size_t p = 0; p < kc; p++)
        for (size_t i = 0; i < mr; i++) dst[p * mr + i] = a[(i0 + i) * lda + p];
    } else {
      for (size_t p = 0; p < kc; p++)
        for (size_t i = 0; i < mv; i++) dst[p * mr + i] = a[(i0 + i) * lda + p];
    }
  }
}

}  // namespace simdtensor
