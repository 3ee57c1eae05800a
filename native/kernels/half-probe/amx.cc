// AMX-BF16 tdpbf16ps throughput probe: 4 independent 16×16 f32 accumulator tiles fed by 16×32 bf16 tiles
// (16·16·32 multiply-adds each). Compiled here, not run here (no AMX on the development machine): selected only
// when cpuid, XCR0 and the Linux tile permission all allow it.
#include "common/x86_intrin.h"


#include "common/amx_tiles.h"
#include "kernels/half-probe/half-probe.h"

namespace simdtensor {

double half_probe_amxbf16__amx(uint64_t iters, float* sink) {
  const AmxTileConfig cfg = amx_tiles_16x64(8);
  _tile_loadconfig(&cfg);
  alignas(64) uint16_t src[16 * 32];
  for (int i = 0; i < 16 * 32; i++) src[i] = 0x3c00;  // small bf16 values
  alignas(64) float out[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, src, 64);
  _tile_loadd(5, src, 64);
  _tile_loadd(6, src, 64);
  _tile_loadd(7, src, 64);
  for (uint64_t it = 0; it < iters; it++) {
    _tile_dpbf16ps(0, 4, 5);
    _tile_dpbf16ps(1, 4, 6);
    _tile_dpbf16ps(2, 7, 5);
    _tile_dpbf16ps(3, 7, 6);
  }
  _tile_stored(0, out, 64);
  float s = out[0];
  _tile_stored(3, out, 64);
  s += out[255];
  _tile_release();
  *sink = s;
  return double(iters) * 4.0 * 16.0 * 16.0 * 32.0 * 2.0;
}

}  // namespace simdtensor
