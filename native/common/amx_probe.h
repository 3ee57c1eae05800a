// The AMX throughput probe body shared by the int8 and bf16 probes: 4 independent 16×16 accumulator tiles (0-3) fed
// by 4 source tiles (4-7) loaded once from one 1 KiB buffer; Dp::step() issues the four dot products (the tile
// intrinsics are macros that need literal tile numbers, so each probe spells its own instruction there).
// Include only from files compiled with the AMX flags.
#pragma once
#include <cstdint>

#include "common/amx_tiles.h"
#include "common/x86_intrin.h"

namespace simdtensor {

// Runs iters steps; returns out[0] of tile 0 plus out[255] of tile 3 (kept live through the sink).
template <class Dp>
typename Dp::Acc amx_probe_run(uint64_t iters, const void* src) {
  const AmxTileConfig cfg = amx_tiles_16x64(8);
  _tile_loadconfig(&cfg);
  alignas(64) typename Dp::Acc out[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, src, 64);
  _tile_loadd(5, src, 64);
  _tile_loadd(6, src, 64);
  _tile_loadd(7, src, 64);
  for (uint64_t it = 0; it < iters; it++) Dp::step();
  _tile_stored(0, out, 64);
  typename Dp::Acc s = out[0];
  _tile_stored(3, out, 64);
  s += out[255];
  _tile_release();
  return s;
}

}  // namespace simdtensor
