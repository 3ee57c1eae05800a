// The loop nest every transpose variant shares, over an ISA's T×T register tile `Tile` (a struct with
// `static constexpr size_t T`, `full(x, ldx, y, ldy)` for a whole tile and `part(x, ldx, y, ldy, r, c)` for an r×c
// edge tile, r, c <= T). Row blocks of H = Tile::T · K rows are walked column tile by column tile, so every store of
// a column tile writes H consecutive floats (>= one 64-byte line) of each of its T output rows.
#pragma once
#include <cstddef>

namespace simdtensor {
namespace {

template <class Tile, size_t K>
void transpose_tiled(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) {
  constexpr size_t T = Tile::T, H = T * K;
  size_t i0 = 0;
  for (; i0 + H <= rows; i0 += H) {
    size_t j0 = 0;
    for (; j0 + T <= cols; j0 += T)
      for (size_t k = 0; k < K; k++) Tile::full(x + (i0 + k * T) * ldx + j0, ldx, y + j0 * ldy + i0 + k * T, ldy);
    if (j0 < cols)
      for (size_t k = 0; k < K; k++)
        Tile::part(x + (i0 + k * T) * ldx + j0, ldx, y + j0 * ldy + i0 + k * T, ldy, T, cols - j0);
  }
  for (; i0 < rows; i0 += T) {  // the last rows, fewer than H: tiles of T rows, the very last one partial
    const size_t r = rows - i0 < T ? rows - i0 : T;
    for (size_t j0 = 0; j0 < cols; j0 += T) {
      const size_t c = cols - j0 < T ? cols - j0 : T;
      if (r == T && c == T) Tile::full(x + i0 * ldx + j0, ldx, y + j0 * ldy + i0, ldy);
      else Tile::part(x + i0 * ldx + j0, ldx, y + j0 * ldy + i0, ldy, r, c);
    }
  }
}

}  // namespace
}  // namespace simdtensor
