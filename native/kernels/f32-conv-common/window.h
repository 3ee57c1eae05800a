// Sliding-window geometry shared by the depthwise, pooling and conv families: which taps of a window fall inside.
#pragma once
#include <cstddef>

namespace simdtensor {

// Taps k in [*k0, *k1) of a window of `k` taps (dilation d) placed at output o (stride s, leading pad p) whose input
// coordinate o·s − p + k·d lies in [0, in). Empty when none does (*k0 == *k1).
inline void window_taps(size_t o, size_t s, size_t p, size_t d, size_t k, size_t in, size_t* k0, size_t* k1) {
  const ptrdiff_t base = ptrdiff_t(o * s) - ptrdiff_t(p);
  size_t a = 0, b = k;
  while (a < k && base + ptrdiff_t(a * d) < 0) a++;
  while (b > a && base + ptrdiff_t((b - 1) * d) >= ptrdiff_t(in)) b--;
  *k0 = a;
  *k1 = b;
}

// Output positions [*o0, *o1) whose whole window lies inside [0, in) (the interior a kernel can run unchecked).
inline void window_interior(size_t out, size_t s, size_t p, size_t d, size_t k, size_t in, size_t* o0, size_t* o1) {
  const size_t ext = (k - 1) * d + 1;
  size_t a = (p + s - 1) / s;
  size_t b = in + p >= ext ? (in + p - ext) / s + 1 : 0;
  if (b > out) b = out;
  if (a > b) a = b;
  *o0 = a;
  *o1 = b;
}

// One row of a column-phase split (NCHW kernels): dst[j] = padded input column j·sw + q (pad outside [0, iw)): the in-range span found first, so the copy loop has
// no branch and the compiler can vectorise its strided reads.
inline void window_phase_row(float* dst, size_t pw, const float* src, size_t iw, size_t sw, size_t q, size_t pl, float pad) {
  // j in range when 0 <= j·sw + q − pl < iw.
  size_t j0 = q >= pl ? 0 : (pl - q + sw - 1) / sw;
  size_t j1 = iw + pl > q ? (iw + pl - q + sw - 1) / sw : 0;
  if (j0 > pw) j0 = pw;
  if (j1 > pw) j1 = pw;
  if (j1 < j0) j1 = j0;
  for (size_t j = 0; j < j0; j++) dst[j] = pad;
  if (j1 > j0) {
    const float* sp = src + (j0 * sw + q - pl);
    for (size_t j = j0; j < j1; j++) dst[j] = sp[(j - j0) * sw];
  }
  for (size_t j = j1; j < pw; j++) dst[j] = pad;
}

}  // namespace simdtensor
