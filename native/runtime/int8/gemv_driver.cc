// Small-M int8 driver: threads split the B panels (N, parallel_panels); each task walks its panels once, MR rows at a time.
#include "runtime/int8/gemv_driver.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "runtime/core/aligned.h"
#include "runtime/core/gemm_partition.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<uint8_t> t_rows;
thread_local ScratchBuffer<int32_t> t_rowi;
thread_local ScratchBuffer<float> t_rowf;
}  // namespace

size_t s8_gemv_max_m() {
  static const size_t v = [] {
    const char* s = std::getenv("SIMDTENSOR_S8_SMALL_M");
    if (!s || !*s) return kS8GemvMaxM;
    char* end = nullptr;
    const unsigned long x = std::strtoul(s, &end, 10);
    return *end ? kS8GemvMaxM : std::min<size_t>(x, kS8GemvMaxM);
  }();
  return v;
}

void s8_gemv_run(const S8GemvVariant& v, const S8GemmArgs& g, const S8GemvRows& r) {
  if (g.m == 0 || g.n == 0) return;
  const size_t nr = v.nr, mr = v.mr, kpad = r.kpad, m = g.m;
  const size_t panels = (g.n + nr - 1) / nr;
  const size_t esize = s8_gemm_out_bytes(g.out);
  const S8GemmEpilogue base = s8_gemm_epilogue(g);
  parallel_panels(panels, 2.0 * double(m) * double(g.n) * double(g.k), [&](size_t p) {
    const size_t j = p * nr, nv = std::min(nr, g.n - j);
    const int8_t* bp = g.b_panels + p * nr * kpad;
    S8GemmEpilogue ep = s8_gemm_epilogue_at(base, g, j);
    for (size_t i = 0; i < m; i += mr) {
      ep.za = r.za + i;
      ep.rs = r.rs + i;
      ep.sa = r.sa + i;
      char* c = static_cast<char*>(g.c) + (i * g.ldc + j) * esize;
      v.ukernel(std::min(mr, m - i), nv, kpad, r.a + i * r.lda, r.lda, bp, c, g.ldc, &ep);
    }
  });
}

void s8_gemv_gemm_run(const S8GemvVariant& v, const S8GemmVariant& gv, const S8GemmArgs& g) {
  const size_t m = g.m, k = g.k, kpad = s8_gemv_kpad(gv, k);
  // The caller's bytes into the kernel's domain: xor of the sign bit where the signedness differs (oa = ±128).
  const int32_t oa = v.a_signed ? (g.a_unsigned ? -128 : 0) : (g.a_unsigned ? 0 : 128);
  const uint8_t flip = oa ? 0x80 : 0;
  const size_t lda = s8_gemv_row_stride(kpad);
  uint8_t* a = t_rows.get(m * lda);
  int32_t* za = t_rowi.get(2 * m);
  int32_t* rs = za + m;
  float* sa = t_rowf.get(m);
  const uint8_t* src = static_cast<const uint8_t*>(g.a);
  for (size_t i = 0; i < m; i++) {
    uint8_t* row = a + i * lda;
    if (flip) {
      for (size_t p = 0; p < k; p++) row[p] = uint8_t(src[i * g.lda + p] ^ flip);
    } else if (k) {
      std::memcpy(row, src + i * g.lda, k);
    }
    std::memset(row + k, 0, kpad - k);
    if (g.zb) {
      uint32_t s = 0;
      for (size_t p = 0; p < k; p++) s += v.a_signed ? uint32_t(int32_t(int8_t(row[p]))) : uint32_t(row[p]);
      rs[i] = int32_t(s);
    }
    const int32_t z = g.a_zero ? g.a_zero[i * g.a_zero_stride] : 0;
    za[i] = int32_t(uint32_t(z) + uint32_t(oa));
    sa[i] = g.out != kS8OutI32 ? g.a_scale[i * g.a_scale_stride] : 0.0f;
  }
  s8_gemv_run(v, g, S8GemvRows{a, lda, za, rs, sa, kpad});
}

}  // namespace simdtensor
