// bf16 GEMM microkernel bf16_gemm_16x32__amx: AMX-BF16 tiles, f32 accumulation. Per 32-wide K block: one A tile
// (16 rows × 32 bf16, from the row-packed A) and two B tiles (16 K-pairs × 16 columns × 2, read straight from the
// pair-interleaved panel with a 128-byte stride) feed two 16×16 f32 accumulator tiles; the tiles are stored once
// and the shared epilogue adds C, bias and the activation.
// UNTESTED: the development machine has no AMX. Selected only when cpuid, XCR0 and the Linux tile permission
// (requested in cpu/features.cc) all allow it; the native tests cover it on such a machine and skip it here.
#include "common/x86_intrin.h"

#include <cstring>

#include "common/amx_tiles.h"
#include "common/vec_avx512.h"
#include "kernels/half-gemm/ukernel.h"

namespace simdtensor {
namespace {
void configure_tiles() {
  const AmxTileConfig cfg = amx_tiles_16x64(5);  // 0, 1: C; 2: A; 3, 4: B
  _tile_loadconfig(&cfg);
}
}  // namespace

void bf16_gemm_16x32__amx(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                          unsigned flags, const float* bias, int act) {
  alignas(64) float acc[16][32];
  if (kc == 0) {
    std::memset(acc, 0, sizeof(acc));
  } else {
    configure_tiles();
    const uint16_t* ap = static_cast<const uint16_t*>(a);
    const size_t kp = (kc + 31) / 32 * 32;  // A row stride in halves (the packing zero-pads K to 32)
    _tile_zero(0);
    _tile_zero(1);
    for (size_t k0 = 0; k0 < kp; k0 += 32) {
      _tile_loadd(2, ap + k0, long(kp * sizeof(uint16_t)));
      const uint16_t* bk = b + k0 * 32;  // 16 K-pair rows of 32 columns × 2 halves
      _tile_loadd(3, bk, 128);
      _tile_loadd(4, bk + 32, 128);
      _tile_dpbf16ps(0, 2, 3);
      _tile_dpbf16ps(1, 2, 4);
    }
    _tile_stored(0, &acc[0][0], 128);
    _tile_stored(1, &acc[0][16], 128);
    _tile_release();
  }
  for (size_t i = 0; i < m; i++) {
    __m512 row[1][2] = {{_mm512_load_ps(&acc[i][0]), _mm512_load_ps(&acc[i][16])}};
    gemm_store_f32<VecAvx512, 1, 2>(row, n, c + i * ldc, ldc, flags, bias, act);
  }
}

}  // namespace simdtensor
