// The AMX tile configuration (the 64-byte ldtilecfg operand, palette 1) shared by every AMX kernel, probe and
// the software tile model.
#pragma once
#include <cstdint>
#include <cstring>

namespace simdtensor {

struct alignas(64) AmxTileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
static_assert(sizeof(AmxTileConfig) == 64, "ldtilecfg reads exactly 64 bytes");

// Palette 1 with tiles 0 .. count-1 each 16 rows of 64 bytes (the only shape the kernels here use); the rest unused.
inline AmxTileConfig amx_tiles_16x64(int count) {
  AmxTileConfig c;
  std::memset(&c, 0, sizeof(c));
  c.palette = 1;
  for (int t = 0; t < count; t++) {
    c.rows[t] = 16;
    c.colsb[t] = 64;
  }
  return c;
}

}  // namespace simdtensor
