// AMX-INT8 tdpbusd throughput probe: 4 independent 16×16 int32 accumulator tiles fed by 16×64 u8 and 16×16·4 s8
// tiles (16·16·64 multiply-adds each). Compiled here, never run on a machine without AMX: selected only when
// cpuid, XCR0 and the Linux tile permission all allow it. UNTESTED on the development machine (AMD, no AMX).
#include <cstring>

#include "common/amx_probe.h"
#include "kernels/s8-probe/s8-probe.h"

namespace simdtensor {
namespace {

struct S8Dp {
  using Acc = int32_t;
  static void step() {
    _tile_dpbusd(0, 4, 5);
    _tile_dpbusd(1, 4, 6);
    _tile_dpbusd(2, 7, 5);
    _tile_dpbusd(3, 7, 6);
  }
};

}  // namespace

double s8_probe__amx(uint64_t iters, int32_t* sink) {
  alignas(64) uint8_t src[16 * 64];
  std::memset(src, 1, sizeof(src));
  *sink = amx_probe_run<S8Dp>(iters, src);
  return double(iters) * 4.0 * 16.0 * 16.0 * 64.0 * 2.0;
}

}  // namespace simdtensor
