// AMX-INT8 tdpbusd throughput probe: 4 independent 16×16 int32 accumulator tiles fed by 16×64 u8 and 16×16·4 s8
// tiles (16·16·64 multiply-adds each). Compiled here, never run on a machine without AMX: selected only when
// cpuid, XCR0 and the Linux tile permission all allow it. UNTESTED on the development machine (AMD, no AMX).
#include "common/x86_intrin.h"

#include <cstring>

#include "common/amx_tiles.h"
#include "kernels/s8-probe/s8-probe.h"

namespace simdtensor {

double s8_probe__amx(uint64_t iters, int32_t* sink) {
  const AmxTileConfig cfg = amx_tiles_16x64(8);
  _tile_loadconfig(&cfg);
  alignas(64) uint8_t src[16 * 64];
  std::memset(src, 1, sizeof(src));
  alignas(64) int32_t out[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, src, 64);
  _tile_loadd(5, src, 64);
  _tile_loadd(6, src, 64);
  _tile_loadd(7, src, 64);
  for (uint64_t it = 0; it < iters; it++) {
    _tile_dpbusd(0, 4, 5);
    _tile_dpbusd(1, 4, 6);
    _tile_dpbusd(2, 7, 5);
    _tile_dpbusd(3, 7, 6);
  }
  _tile_stored(0, out, 64);
  int32_t s = out[0];
  _tile_stored(3, out, 64);
  s += out[255];
  _tile_release();
  *sink = s;
  return double(iters) * 4.0 * 16.0 * 16.0 * 64.0 * 2.0;
}

}  // namespace simdtensor
