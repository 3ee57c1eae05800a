// AMX-BF16 tdpbf16ps throughput probe: 4 independent 16×16 f32 accumulator tiles fed by 16×32 bf16 tiles
// (16·16·32 multiply-adds each). Compiled here, not run here (no AMX on the development machine): selected only
// when cpuid, XCR0 and the Linux tile permission all allow it.
#include "common/amx_probe.h"
#include "kernels/half-probe/half-probe.h"

namespace simdtensor {
namespace {

struct Bf16Dp {
  using Acc = float;
  static void step() {
    _tile_dpbf16ps(0, 4, 5);
    _tile_dpbf16ps(1, 4, 6);
    _tile_dpbf16ps(2, 7, 5);
    _tile_dpbf16ps(3, 7, 6);
  }
};

}  // namespace

double half_probe_amxbf16__amx(uint64_t iters, float* sink) {
  alignas(64) uint16_t src[16 * 32];
  for (int i = 0; i < 16 * 32; i++) src[i] = 0x3c00;  // small bf16 values
  *sink = amx_probe_run<Bf16Dp>(iters, src);
  return double(iters) * 4.0 * 16.0 * 16.0 * 32.0 * 2.0;
}

}  // namespace simdtensor
