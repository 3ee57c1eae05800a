// Test support: the AMX kernel's own source (amx.cc) compiled against a software model of the tile instructions it
// uses, so its addressing, packed layouts, tile shapes and epilogue hand-off are checked on CPUs without AMX. It
// proves nothing about the hardware instructions themselves (their encoding, the OS tile permission, speed).
// Symbols get an `_emulated` suffix; nothing in the dispatch table points here.
#include "common/x86_intrin.h"

#include <cstdint>
#include <cstring>

#include "common/amx_tiles.h"

namespace simdtensor {
namespace amx_model {

struct Tile {
  int rows = 0, colsb = 0;
  alignas(64) uint8_t bytes[16][64];
};
struct State {
  bool configured = false;
  Tile t[8];
};
thread_local State g_state;

inline void loadconfig(const void* p) {
  AmxTileConfig c;
  std::memcpy(&c, p, sizeof(c));
  for (int i = 0; i < 8; i++) {
    g_state.t[i].rows = c.palette == 1 ? c.rows[i] : 0;
    g_state.t[i].colsb = c.palette == 1 ? c.colsb[i] : 0;
  }
  g_state.configured = c.palette == 1;
}
inline Tile& tile(int i) {
  if (!g_state.configured || i < 0 || i > 7) __builtin_trap();  // the real instruction faults too
  return g_state.t[i];
}
inline void release() { g_state.configured = false; }
inline void zero(int i) { std::memset(tile(i).bytes, 0, sizeof(tile(i).bytes)); }
inline void loadd(int i, const void* base, size_t stride) {
  Tile& t = tile(i);
  for (int r = 0; r < t.rows; r++) std::memcpy(t.bytes[r], static_cast<const uint8_t*>(base) + r * stride, size_t(t.colsb));
}
inline void stored(int i, void* base, size_t stride) {
  Tile& t = tile(i);
  for (int r = 0; r < t.rows; r++) std::memcpy(static_cast<uint8_t*>(base) + r * stride, t.bytes[r], size_t(t.colsb));
}
// TDPBUSD: C[m][n] += Σ_k Σ_t u8(A[m][4k+t]) · s8(B[k][4n+t]), k < colsb(A)/4, in wrapping int32.
inline void dpbusd(int ci, int ai, int bi) {
  Tile &c = tile(ci), &a = tile(ai), &b = tile(bi);
  if (a.colsb / 4 != b.rows || c.rows != a.rows || c.colsb != b.colsb) __builtin_trap();  // #UD on the real CPU
  for (int m = 0; m < c.rows; m++)
    for (int n = 0; n < c.colsb / 4; n++) {
      int32_t acc;
      std::memcpy(&acc, &c.bytes[m][4 * n], 4);
      uint32_t s = uint32_t(acc);
      for (int k = 0; k < a.colsb / 4; k++)
        for (int t = 0; t < 4; t++) s += uint32_t(int32_t(a.bytes[m][4 * k + t]) * int32_t(int8_t(b.bytes[k][4 * n + t])));
      acc = int32_t(s);
      std::memcpy(&c.bytes[m][4 * n], &acc, 4);
    }
}

}  // namespace amx_model
}  // namespace simdtensor

#undef _tile_loadd
#undef _tile_stored
#undef _tile_zero
#undef _tile_dpbusd
#define _tile_loadconfig(p) ::simdtensor::amx_model::loadconfig(p)
#define _tile_release() ::simdtensor::amx_model::release()
#define _tile_zero(i) ::simdtensor::amx_model::zero(i)
#define _tile_loadd(i, base, stride) ::simdtensor::amx_model::loadd(i, base, stride)
#define _tile_stored(i, base, stride) ::simdtensor::amx_model::stored(i, base, stride)
#define _tile_dpbusd(c, a, b) ::simdtensor::amx_model::dpbusd(c, a, b)
#define s8_gemm_32x32__amx s8_gemm_32x32__amx_emulated
#define s8_gemm_amx_begin s8_gemm_amx_begin_emulated
#define s8_gemm_amx_end s8_gemm_amx_end_emulated

#include "kernels/s8-gemm/amx.cc"  // NOLINT(bugprone-suspicious-include): the point of this file
