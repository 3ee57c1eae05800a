// The ONNX runtime helpers against plain references: DynamicQuantizeLinear bit for bit (ties, saturation, NaN,
// every length around the vector width, inputs flush against their buffer end) and the N-d transpose.
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/features.h"
#include "runtime/onnx/ops.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {

// Round half to even, the way std::nearbyint does in the default rounding mode.
float rne_ref(float v) { return std::nearbyint(v); }

void dq_ref(const float* x, size_t n, std::vector<uint8_t>& out, float& scale, int32_t& zp) {
  float mn = 0.0f, mx = 0.0f;
  for (size_t i = 0; i < n; i++) {
    if (std::isnan(x[i])) continue;
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  const float z0 = 0.0f - mn / scale;
  zp = int32_t(rne_ref(std::max(0.0f, std::min(255.0f, z0))));
  out.assign(n, 0);
  for (size_t i = 0; i < n; i++) {
    const float v = x[i] / scale;
    if (std::isnan(v)) continue;  // NaN (or ±Inf / Inf) quantizes to 0
    const float q = rne_ref(v) + float(zp);
    out[i] = uint8_t(std::max(0.0f, std::min(255.0f, q)));
  }
}

struct DqVariant {
  const char* name;
  void (*fn)(const float*, size_t, uint8_t*, float*, int32_t*);
};

// The dispatched entry (baseline build, or the AVX2 one it picks) and every variant this CPU can run.
std::vector<DqVariant> variants() {
  std::vector<DqVariant> v{{"onnx_dynamic_quantize_u8 (dispatched)", onnx_dynamic_quantize_u8}};
#if defined(__x86_64__) || defined(_M_X64)
  if (isa_supported(Isa::kAvx2)) v.push_back({"onnx_dynamic_quantize_u8__avx2", onnx_dynamic_quantize_u8__avx2});
  else sttest::skip("onnx_dynamic_quantize_u8__avx2", "CPU lacks AVX2");
  v.push_back({"onnx_dynamic_quantize_u8 (capped to scalar)", [](const float* x, size_t n, uint8_t* o, float* s, int32_t* z) {
                 const Isa c = max_isa();
                 set_max_isa(Isa::kScalar);
                 onnx_dynamic_quantize_u8(x, n, o, s, z);
                 set_max_isa(c);
               }});
#endif
  return v;
}

}  // namespace

TEST(onnx_dynamic_quantize_matches_reference) {
  const float specials[] = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -2.5f, 127.5f, 1e30f, -1e30f, HUGE_VALF, -HUGE_VALF,
                            std::numeric_limits<float>::quiet_NaN(), 1e-40f};
  for (size_t n = 0; n <= 70; n++) {
    for (int mode = 0; mode < 3; mode++) {
      sttest::Rng rng(n * 3 + mode);
      sttest::Flush<float> x(n);
      for (size_t i = 0; i < n; i++) {
        const uint32_t r = rng.next();
        if (mode == 0) x[i] = 3.0f * rng.uniform();
        else if (mode == 1) x[i] = float(int(r % 511) - 255);  // ties at scale 2 when the range is ±255
        else x[i] = (r % 4 == 0) ? specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))] : 50.0f * rng.uniform();
      }
      std::vector<uint8_t> want;
      float ws;
      int32_t wz;
      dq_ref(x.data(), n, want, ws, wz);
      for (const auto& v : variants()) {
        sttest::Flush<uint8_t> got(n);
        float gs = 0;
        int32_t gz = -1;
        v.fn(x.data(), n, got.data(), &gs, &gz);
        CHECK(gs == ws || (std::isnan(gs) && std::isnan(ws)), "%s n=%zu mode=%d scale %g vs %g", v.name, n, mode, double(gs), double(ws));
        CHECK(gz == wz, "%s n=%zu mode=%d zero point %d vs %d", v.name, n, mode, gz, wz);
        for (size_t i = 0; i < n; i++) CHECK(got[i] == want[i], "%s n=%zu mode=%d i=%zu x=%g: %d vs %d", v.name, n, mode, i, double(x[i]), got[i], want[i]);
      }
    }
  }
}

TEST(onnx_transpose_matches_index_math) {
  const size_t shape[4] = {3, 1, 5, 4};
  const int perms[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 1, 3}, {0, 2, 3, 1}, {2, 0, 3, 1}};
  std::vector<uint32_t> x(60);
  for (size_t i = 0; i < x.size(); i++) x[i] = uint32_t(i * 2654435761u);
  const size_t xs[4] = {20, 20, 4, 1};
  for (const auto& p : perms) {
    size_t os[4], st[4];
    for (int d = 0; d < 4; d++) {
      os[d] = shape[p[d]];
      st[d] = xs[p[d]];
    }
    sttest::Flush<uint32_t> out(60);
    onnx_transpose_4b(x.data(), out.data(), os, st, 4);
    size_t o = 0;
    for (size_t a = 0; a < os[0]; a++)
      for (size_t b = 0; b < os[1]; b++)
        for (size_t c = 0; c < os[2]; c++)
          for (size_t d = 0; d < os[3]; d++, o++)
            CHECK(out[o] == x[a * st[0] + b * st[1] + c * st[2] + d * st[3]], "perm %d%d%d%d at %zu", p[0], p[1], p[2], p[3], o);
  }
}
