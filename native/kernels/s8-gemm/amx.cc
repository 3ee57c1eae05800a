// int8 GEMM microkernel s8_gemm_32x32__amx: a 32×32 int32 block in four 16×16 AMX accumulator tiles (tdpbusd,
// u8 · s8), K in steps of 64; then the shared epilogue on AVX-512 registers.
//
// UNTESTED: the development machine (AMD Zen 5) has no AMX and no emulator was available. The kernel is selected
// only when cpuid, XCR0 and the Linux tile permission all allow AMX, and the native tests cover it like every
// other variant (they report it as SKIPPED where the CPU lacks AMX).
#include "common/x86_intrin.h"

#include <cstring>

#include "common/amx_tiles.h"
#include "common/ivec_avx512.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {

namespace {

// Tiles 0-3: C (16 rows × 16 int32), 4-5: A (16 rows × 64 u8), 6-7: B (16 K-groups × 16 columns × 4 s8).
const AmxTileConfig& tile_config() {
  static const AmxTileConfig cfg = amx_tiles_16x64(8);
  return cfg;
}

struct EpiAvx512 : IVecAvx512 {};

// Rows [r0, r0 + M) of the 32×32 int32 block in `acc` (row stride 32) through the shared epilogue.
template <int M>
void epilogue_rows(const int32_t* acc, size_t r0, size_t n, void* c, size_t ldc, const S8GemmEpilogue& ep) {
  __m512i v[M][2];
  for (int i = 0; i < M; i++) {
    v[i][0] = _mm512_loadu_si512(acc + (r0 + i) * 32);
    v[i][1] = _mm512_loadu_si512(acc + (r0 + i) * 32 + 16);
  }
  S8GemmEpilogue e = ep;
  e.za += r0;
  e.rs += r0;
  e.sa += r0;
  const size_t esize = (ep.out == kS8OutI32 || ep.out == kS8OutF32) ? 4 : 1;
  s8_gemm_epilogue<EpiAvx512, 2, M>(v, n, static_cast<char*>(c) + r0 * ldc * esize, ldc, e);
}

template <int M>
void epilogue_dispatch(size_t rows, const int32_t* acc, size_t r0, size_t n, void* c, size_t ldc,
                       const S8GemmEpilogue& ep) {
  if constexpr (M > 0) {
    if (rows == size_t(M)) return epilogue_rows<M>(acc, r0, n, c, ldc, ep);
    return epilogue_dispatch<M - 1>(rows, acc, r0, n, c, ldc, ep);
  }
}

}  // namespace

void s8_gemm_amx_begin() { _tile_loadconfig(&tile_config()); }
void s8_gemm_amx_end() { _tile_release(); }

// a: packed rows (S8ALayout::kRows): 32 rows of kpad bytes (rows past m are zero).
// b: panel of NR = 32 columns: kpad/4 K-groups of 128 bytes (columns 0-15 at +0, 16-31 at +64).
void s8_gemm_32x32__amx(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                        size_t ldc, const S8GemmEpilogue* ep) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const uint8_t* a1 = a + 16 * kpad;
  for (size_t k = 0; k < kpad; k += 64) {
    _tile_loadd(4, a + k, kpad);
    _tile_loadd(5, a1 + k, kpad);
    const int8_t* bk = b + (k / 4) * 128;
    _tile_loadd(6, bk, 128);
    _tile_loadd(7, bk + 64, 128);
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  alignas(64) int32_t acc[32 * 32];
  _tile_stored(0, acc, 128);
  _tile_stored(1, acc + 16, 128);
  _tile_stored(2, acc + 16 * 32, 128);
  _tile_stored(3, acc + 16 * 32 + 16, 128);
  for (size_t r0 = 0; r0 < m; r0 += 8) epilogue_dispatch<8>(m - r0 < 8 ? m - r0 : 8, acc, r0, n, c, ldc, *ep);
}

}  // namespace simdtensor
