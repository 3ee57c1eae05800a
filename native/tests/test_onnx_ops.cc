// The ONNX runtime helpers against plain references: DynamicQuantizeLinear bit for bit (ties, saturation, NaN,
// every length around the vector width, inputs flush against their buffer end) and the N-d transpose.
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/features.h"
#include "kernels/quantize/quantize.h"
#include "runtime/int8/dynamic_linear.h"
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

// The strided copies of Slice and ConvTranspose's interleave: contiguous inner runs of 1..100 elements (the inline
// short-run copy, the two-dims loop for runs <= 8, memcpy past 64) under rows with and without gaps, against index
// math, x sized to exactly the elements reached (ASan catches a read past them).
TEST(onnx_transpose_strided_runs_match_index_math) {
  for (size_t inner : {1, 2, 3, 4, 5, 7, 8, 9, 16, 63, 64, 65, 100})
    for (size_t rows : {1, 3, 17})
      for (size_t gap : {0, 3})
        for (size_t outer : {1, 2}) {
          const size_t rs = inner + gap, os[3] = {outer, rows, inner}, st[3] = {rows * rs + 5, rs, 1};
          const size_t reach = (outer - 1) * st[0] + (rows - 1) * st[1] + inner;
          sttest::Flush<uint32_t> x(reach), out(outer * rows * inner);
          for (size_t i = 0; i < reach; i++) x[i] = uint32_t(i * 2654435761u + 1);
          onnx_transpose_4b(x.data(), out.data(), os, st, 3);
          size_t o = 0;
          for (size_t a = 0; a < outer; a++)
            for (size_t b = 0; b < rows; b++)
              for (size_t c = 0; c < inner; c++, o++)
                CHECK(out[o] == x[a * st[0] + b * st[1] + c], "inner=%zu rows=%zu gap=%zu outer=%zu at %zu", inner, rows, gap, outer, o);
        }
  // ConvTranspose (kernel = stride = 2) interleave: [H, W, kh, kw·M] → [H, kh, W, kw·M], M = 1 and 3.
  for (size_t m : {1, 3}) {
    const size_t H = 3, W = 5, os[4] = {H, 2, W, 2 * m}, st[4] = {W * 4 * m, 2 * m, 4 * m, 1};
    sttest::Flush<uint32_t> x(H * W * 4 * m), out(H * W * 4 * m);
    for (size_t i = 0; i < H * W * 4 * m; i++) x[i] = uint32_t(i + 7);
    onnx_transpose_4b(x.data(), out.data(), os, st, 4);
    size_t o = 0;
    for (size_t h = 0; h < H; h++)
      for (size_t i = 0; i < 2; i++)
        for (size_t w = 0; w < W; w++)
          for (size_t j = 0; j < 2 * m; j++, o++) CHECK(out[o] == x[h * st[0] + i * st[1] + w * st[2] + j], "m=%zu at %zu", m, o);
  }
}

// Gather's row copy against index math: int32 and int64-as-double indices, negative ones, rows of 1..(odd) bytes,
// outer > 1, k = 0; an out-of-range, NaN or non-finite index reports its position and writes nothing.
template <class I>
void check_gather(const char* what) {
  const size_t outer = 3, dim = 7;
  const I idx[] = {I(0), I(6), I(-1), I(3), I(-7), I(3)};
  const size_t k = sizeof(idx) / sizeof(idx[0]);
  for (size_t row : {size_t(1), size_t(4), size_t(13), size_t(1536)}) {
    sttest::Flush<uint8_t> x(outer * dim * row), out(outer * k * row);
    for (size_t i = 0; i < outer * dim * row; i++) x[i] = uint8_t(i * 131 + 7);
    CHECK(onnx_gather_rows(x.data(), outer, dim, row, idx, k, out.data()) == k, "%s gather row=%zu", what, row);
    for (size_t o = 0; o < outer; o++)
      for (size_t j = 0; j < k; j++) {
        const size_t src = size_t(idx[j] < 0 ? idx[j] + I(dim) : idx[j]);
        for (size_t b = 0; b < row; b++)
          CHECK(out[(o * k + j) * row + b] == x[(o * dim + src) * row + b], "%s gather row=%zu o=%zu j=%zu b=%zu", what, row, o, j, b);
      }
    CHECK(onnx_gather_rows(x.data(), outer, dim, row, idx, 0, out.data()) == 0, "%s gather k=0", what);
  }
  sttest::Flush<uint8_t> x(dim * 4), out(3 * 4);
  for (size_t i = 0; i < 12; i++) out[i] = 0xAB;
  const I bad[][3] = {{I(1), I(7), I(0)}, {I(1), I(2), I(-8)}, {I(-8), I(0), I(0)}};
  for (size_t t = 0; t < 3; t++) {
    const size_t want = t == 0 ? 1 : t == 1 ? 2 : 0;
    CHECK(onnx_gather_rows(x.data(), 1, dim, 4, bad[t], 3, out.data()) == want, "%s gather bad index case %zu", what, t);
  }
  for (size_t i = 0; i < 12; i++) CHECK(out[i] == 0xAB, "%s gather wrote on a bad index at %zu", what, i);
}

TEST(onnx_gather_rows_matches_index_math) {
  check_gather<int32_t>("int32");
  check_gather<double>("int64");
  sttest::Flush<uint8_t> x(8), out(4);
  const double odd[] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), -1e300};
  for (const double v : odd) CHECK(onnx_gather_rows(x.data(), 1, 2, 4, &v, 1, out.data()) == 0, "gather index %g", v);
}

namespace {

// The fast-dynamic-quantize node: every quantizer variant's row path where x is finite and non-empty, else the exact
// kernel (onnxruntime's NaN/±Inf rules), writing exactly n bytes (inputs and outputs flush against their buffer end).
TEST(onnx_dynamic_quantize_fast_picks_row_or_exact_path) {
  for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(15), size_t(16), size_t(17), size_t(63), size_t(65), size_t(1000)}) {
    for (int mode = 0; mode < 3; mode++) {
      sttest::Rng rng(n * 7 + mode);
      sttest::Flush<float> x(n);
      for (size_t i = 0; i < n; i++) x[i] = 20.0f * rng.uniform() + (mode == 1 ? 5.0f : 0.0f);
      if (mode == 2 && n > 0) x[n / 2] = (n % 2) ? std::numeric_limits<float>::quiet_NaN() : -HUGE_VALF;
      sttest::for_each_runnable(quantize_table, [&](const QuantizeVariant& qv) {
        sttest::Flush<uint8_t> got(n), want(n);
        float gs = -1, ws = -1;
        int32_t gz = -1, wz = -1;
        onnx_dynamic_quantize_fast_u8(qv, x.data(), n, got.data(), &gs, &gz);
        const bool exact = n == 0 || mode == 2;
        if (exact) onnx_dynamic_quantize_u8(x.data(), n, want.data(), &ws, &wz);
        else CHECK(quantize_rows_dynamic_count(qv, 1, n, x.data(), true, want.data(), &ws, &wz) == 0, "%s n=%zu row path", qv.name, n);
        CHECK(gs == ws && gz == wz, "%s n=%zu mode=%d scale %g vs %g, zero point %d vs %d", qv.name, n, mode, double(gs), double(ws), gz, wz);
        for (size_t i = 0; i < n; i++) CHECK(got[i] == want[i], "%s n=%zu mode=%d i=%zu: %d vs %d", qv.name, n, mode, i, got[i], want[i]);
      });
    }
  }
  const uint8_t u[3] = {0, 128, 255};
  const int8_t s[3] = {-128, 0, 127};
  int32_t out[3];
  onnx_widen_i32(u, 3, out);
  CHECK(out[0] == 0 && out[1] == 128 && out[2] == 255, "widen u8");
  onnx_widen_i32(s, 3, out);
  CHECK(out[0] == -128 && out[1] == 0 && out[2] == 127, "widen s8");
}

}  // namespace
