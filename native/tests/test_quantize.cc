// Every compiled quantize variant, bit for bit against the plain reference (one rounding rule on every ISA),
// over special values, ties, every length around the vector width, and the scale / zero-point choice.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/quantize/quantize.h"
#include "runtime/core/aligned.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/quantize.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {

std::vector<float> special_inputs(size_t n, uint64_t seed) {
  sttest::Rng rng(seed);
  const float specials[] = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 126.5f, 127.5f, -127.5f, -128.5f,
                            254.5f, 255.5f, 1e30f, -1e30f, HUGE_VALF, -HUGE_VALF,
                            std::numeric_limits<float>::quiet_NaN(), 1e-40f, -1e-40f, 3.4e38f};
  std::vector<float> x(n);
  for (size_t i = 0; i < n; i++) {
    const uint32_t r = rng.next();
    x[i] = (r % 3 == 0) ? specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))] : 300.0f * rng.uniform();
  }
  return x;
}

template <class F>
void for_each_runnable(F&& f) {
  sttest::for_each_runnable(quantize_table, f);
}

}  // namespace

TEST(quantize_matches_reference_bit_exact) {
  const QuantizeVariant& ref = quantize_reference;
  for_each_runnable([&](const QuantizeVariant& v) {
    // scale 1 exposes the ties (x.5) directly; the others exercise the multiply by 1/scale.
    const float scales[] = {1.0f, 0.5f, 0.0393f, 3.0f};
    const int32_t zeros_u8[] = {0, 128, 255}, zeros_s8[] = {0, -128, 127, -3};
    for (size_t n : {size_t(1), size_t(3), size_t(4), size_t(7), size_t(8), size_t(15), size_t(16), size_t(17),
                     size_t(33), size_t(100)}) {
      const std::vector<float> x = special_inputs(n, n);
      for (float s : scales)
        for (int u = 0; u < 2; u++) {
          const int32_t* zs = u ? zeros_u8 : zeros_s8;
          const size_t nz = u ? 3 : 4;
          for (size_t zi = 0; zi < nz; zi++)
            for (int sym = 0; sym < 2; sym++) {
              int32_t qmin, qmax;
              quant_range(u != 0, sym != 0, &qmin, &qmax);
              sttest::Flush<uint8_t> got(n), want(n);
              sttest::Flush<float> xf(n);
              std::memcpy(xf.data(), x.data(), n * 4);
              v.quantize(n, xf.data(), 1.0f / s, zs[zi], qmin, qmax, got.data());
              ref.quantize(n, xf.data(), 1.0f / s, zs[zi], qmin, qmax, want.data());
              for (size_t i = 0; i < n; i++)
                CHECK(got[i] == want[i], "%s n=%zu x=%.9g scale=%g zero=%d [%d,%d]: %d want %d", v.name, n, x[i], s,
                      zs[zi], qmin, qmax, got[i], want[i]);
            }
        }
    }
  });
}

TEST(quantize_rounds_half_to_even_and_clamps) {
  // The documented rule itself, independent of any kernel: ties go to the even integer, NaN to the zero point.
  const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 300.0f, -300.0f, std::numeric_limits<float>::quiet_NaN(),
                     HUGE_VALF, -HUGE_VALF};
  const int32_t want_s8[] = {0, 2, 2, 0, -2, -2, 127, -128, 0, 127, -128};
  const int32_t want_u8z10[] = {10, 12, 12, 10, 8, 8, 255, 0, 10, 255, 0};
  for_each_runnable([&](const QuantizeVariant& v) {
    const size_t n = sizeof(x) / sizeof(x[0]);
    uint8_t q[16];
    v.quantize(n, x, 1.0f, 0, -128, 127, q);
    for (size_t i = 0; i < n; i++) CHECK(int8_t(q[i]) == want_s8[i], "%s s8 x=%g -> %d", v.name, x[i], int8_t(q[i]));
    v.quantize(n, x, 1.0f, 10, 0, 255, q);
    for (size_t i = 0; i < n; i++) CHECK(q[i] == want_u8z10[i], "%s u8 x=%g -> %d", v.name, x[i], q[i]);
  });
}

TEST(quantize_channels_and_dequantize_match_reference) {
  const QuantizeVariant& ref = quantize_reference;
  for_each_runnable([&](const QuantizeVariant& v) {
    for (size_t n : {size_t(1), size_t(5), size_t(16), size_t(19), size_t(64)}) {
      const std::vector<float> x = special_inputs(n, 100 + n);
      sttest::Rng rng(n);
      sttest::Flush<float> inv(n), sc(n), xf(n);
      sttest::Flush<int32_t> z(n);
      for (size_t i = 0; i < n; i++) {
        sc[i] = 0.01f + std::fabs(rng.uniform());
        inv[i] = 1.0f / sc[i];
        z[i] = int32_t(rng.next() % 256) - 128;
        xf[i] = x[i];
      }
      sttest::Flush<uint8_t> got(n), want(n);
      v.quantize_channels(n, xf.data(), inv.data(), z.data(), -128, 127, got.data());
      ref.quantize_channels(n, xf.data(), inv.data(), z.data(), -128, 127, want.data());
      for (size_t i = 0; i < n; i++) CHECK(got[i] == want[i], "%s channels n=%zu i=%zu x=%g", v.name, n, i, x[i]);
      for (int u = 0; u < 2; u++) {
        sttest::Flush<float> dg(n), dw(n), dcg(n), dcw(n);
        v.dequantize(n, got.data(), u != 0, 0.37f, u ? 200 : -5, dg.data());
        ref.dequantize(n, got.data(), u != 0, 0.37f, u ? 200 : -5, dw.data());
        v.dequantize_channels(n, got.data(), u != 0, sc.data(), z.data(), dcg.data());
        ref.dequantize_channels(n, got.data(), u != 0, sc.data(), z.data(), dcw.data());
        for (size_t i = 0; i < n; i++) {
          CHECK(std::memcmp(&dg[i], &dw[i], 4) == 0, "%s dequantize i=%zu %g want %g", v.name, i, dg[i], dw[i]);
          CHECK(std::memcmp(&dcg[i], &dcw[i], 4) == 0, "%s dequantize_channels i=%zu", v.name, i);
        }
      }
    }
  });
}

TEST(quantize_minmax_ignores_nan_and_reports_it) {
  for_each_runnable([](const QuantizeVariant& v) {
    for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(16), size_t(31), size_t(1000)}) {
      sttest::Rng rng(n + 7);
      sttest::Flush<float> x(n);
      float lo = HUGE_VALF, hi = -HUGE_VALF;
      for (size_t i = 0; i < n; i++) {
        x[i] = 50.0f * rng.uniform();
        lo = std::fmin(lo, x[i]);
        hi = std::fmax(hi, x[i]);
      }
      float mn, mx;
      CHECK(!v.minmax(n, x.data(), &mn, &mx), "%s false NaN", v.name);
      CHECK(mn == lo && mx == hi, "%s n=%zu min/max %g %g want %g %g", v.name, n, mn, mx, lo, hi);
      if (n > 2) {
        x[n / 2] = std::numeric_limits<float>::quiet_NaN();
        x[n - 1] = std::numeric_limits<float>::quiet_NaN();
        CHECK(v.minmax(n, x.data(), &mn, &mx), "%s NaN not reported n=%zu", v.name, n);
        CHECK(!std::isnan(mn) && !std::isnan(mx), "%s NaN leaked into min/max", v.name);
      }
    }
  });
}

TEST(quantize_choose_params_rules) {
  // Asymmetric u8 over [-1, 3]: scale 4/255, zero = round(255/4) = 64 (63.75 → 64), 0 exactly representable.
  QuantParams p = quant_choose_params(-1.0f, 3.0f, true, false);
  CHECK(p.scale == 4.0f / 255.0f && p.zero == 64, "u8 asym %g %d", p.scale, p.zero);
  // Range widened to include 0.
  p = quant_choose_params(2.0f, 4.0f, true, false);
  CHECK(p.scale == 4.0f / 255.0f && p.zero == 0, "u8 asym positive %g %d", p.scale, p.zero);
  p = quant_choose_params(-4.0f, -2.0f, false, false);
  CHECK(p.scale == 4.0f / 255.0f && p.zero == 127, "s8 asym negative %g %d", p.scale, p.zero);
  p = quant_choose_params(-0.5f, 2.54f, false, true);
  CHECK(p.scale == 2.54f / 127.0f && p.zero == 0, "s8 sym %g %d", p.scale, p.zero);
  p = quant_choose_params(-0.5f, 2.54f, true, true);
  CHECK(p.zero == 128, "u8 sym zero %d", p.zero);
  p = quant_choose_params(0.0f, 0.0f, true, false);
  CHECK(p.scale == 1.0f && p.zero == 0, "zero range %g %d", p.scale, p.zero);
  p = quant_choose_params(-1e-40f, 1e-40f, false, true);
  CHECK(p.scale == kQuantMinScale, "tiny range floored %g", p.scale);
}

TEST(quantize_rows_dynamic_round_trip) {
  // Per-row asymmetric u8: every value comes back within half a step of its row, and 0 comes back exactly.
  const QuantizeVariant& v = quantize_table.select();
  const size_t m = 5, k = 37;
  sttest::Rng rng(3);
  std::vector<float> x(m * k);
  for (size_t i = 0; i < m * k; i++) x[i] = float(1 + i / k) * 10.0f * rng.uniform();
  x[2 * k + 3] = 0.0f;
  x[4 * k + 1] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> q(m * k), bad(m);
  std::vector<float> s(m);
  std::vector<int32_t> z(m);
  quantize_rows_dynamic(v, m, k, x.data(), k, true, q.data(), k, s.data(), z.data(), bad.data());
  for (size_t i = 0; i < m; i++) {
    CHECK(bool(bad[i]) == (i == 4), "bad row flag %zu", i);
    if (bad[i]) continue;
    for (size_t p = 0; p < k; p++) {
      const float back = float(int32_t(q[i * k + p]) - z[i]) * s[i];
      CHECK(std::fabs(back - x[i * k + p]) <= 0.5f * s[i] * 1.0001f, "row %zu col %zu: %g -> %g", i, p, x[i * k + p], back);
    }
  }
  CHECK(float(int32_t(q[2 * k + 3]) - z[2]) * s[2] == 0.0f, "0 not exact");
}

TEST(quantize_zero_sizes) {
  // Issue #12: zero rows divided by a zero task size (SIGFPE); an outer count not backed by any element was looped
  // over. Null pointers: nothing may be read or written.
  const QuantizeVariant& v = quantize_table.select();
  for (const size_t k : {size_t(0), size_t(4), size_t(70000)})
    quantize_rows_dynamic(v, 0, k, nullptr, k, true, nullptr, k, nullptr, nullptr, nullptr);
  float mn = 0, mx = 0;
  // 2^40 outer slices of one empty channel: returns at once, min/max of nothing.
  const bool nan = minmax_tensor(v, QuantTensorShape{size_t(1) << 40, 1, 0}, nullptr, &mn, &mx);
  CHECK(!nan && mn == HUGE_VALF && mx == -HUGE_VALF, "empty minmax %g %g", mn, mx);
}

TEST(aligned_alloc_overflow_is_out_of_memory) {
  // A count whose byte size overflows size_t must not wrap to a small block.
  bool threw = false;
  try {
    aligned_alloc_array<float>(SIZE_MAX / 2);
  } catch (const OutOfMemory& e) {
    threw = e.bytes == SIZE_MAX;
  }
  CHECK(threw, "overflowing count did not throw OutOfMemory(SIZE_MAX)");
}

TEST(quantize_rows_matches_reference_bit_exact) {
  // Rows of every kind (mixed signs, one sign, zeros, tiny, huge, NaN / ±Inf in one lane), m around the kernel's
  // row block, k around the vector widths, strided rows; the output's padding bytes must stay untouched.
  const QuantizeVariant& ref = quantize_reference;
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), HUGE_VALF, -HUGE_VALF, 1e-40f, -3.4e38f, 2.5f};
  for_each_runnable([&](const QuantizeVariant& v) {
    for (size_t m : {size_t(0), size_t(1), size_t(3), size_t(63), size_t(64), size_t(65), size_t(130)})
      // (63..65, 129, 1031: around and past the range pass's unrolled steps of 4 vectors: 64 floats on AVX-512.)
      for (size_t k : {size_t(0), size_t(1), size_t(7), size_t(15), size_t(16), size_t(17), size_t(33), size_t(63),
                       size_t(64), size_t(65), size_t(100), size_t(129), size_t(1031)}) {
        const size_t ldx = k + 3, ldo = k + 5, nx = m ? (m - 1) * ldx + k : 0, no = m ? (m - 1) * ldo + k : 0;
        sttest::Rng rng(m * 131 + k);
        sttest::Flush<float> x(nx);
        for (size_t i = 0; i < m; i++) {
          const uint32_t kind = i % 7;
          const float range = kind == 5 ? 1e-38f : 0.01f + 300.0f * std::fabs(rng.uniform());
          for (size_t j = 0; j < k; j++) {
            const float u = rng.uniform();
            x[i * ldx + j] = kind == 1 ? std::fabs(u) * range : kind == 2 ? -std::fabs(u) * range : kind == 3 ? 0.0f : u * range;
          }
          if (kind == 4 && k > 0) x[i * ldx + rng.next() % k] = specials[(i / 7) % (sizeof(specials) / sizeof(specials[0]))];
        }
        for (int u = 0; u < 2; u++) {
          sttest::Flush<uint8_t> got(no), want(no);
          std::memset(got.data(), 0xA5, no);
          std::memset(want.data(), 0xA5, no);
          std::vector<float> sg(m + 1), sw(m + 1);
          std::vector<int32_t> zg(m + 1), zw(m + 1);
          std::vector<uint8_t> bg(m + 1), bw(m + 1);
          v.quantize_rows(m, k, x.data(), ldx, u != 0, got.data(), ldo, sg.data(), zg.data(), bg.data());
          ref.quantize_rows(m, k, x.data(), ldx, u != 0, want.data(), ldo, sw.data(), zw.data(), bw.data());
          for (size_t i = 0; i < m; i++) {
            CHECK(bg[i] == bw[i], "%s rows m=%zu k=%zu u=%d row %zu: bad %d want %d", v.name, m, k, u, i, bg[i], bw[i]);
            CHECK(std::memcmp(&sg[i], &sw[i], 4) == 0 || (std::isnan(sg[i]) && std::isnan(sw[i])),
                  "%s rows m=%zu k=%zu u=%d row %zu: scale %.9g want %.9g", v.name, m, k, u, i, sg[i], sw[i]);
            CHECK(zg[i] == zw[i], "%s rows m=%zu k=%zu u=%d row %zu: zero %d want %d", v.name, m, k, u, i, zg[i], zw[i]);
          }
          for (size_t i = 0; i < no; i++)
            CHECK(got[i] == want[i], "%s rows m=%zu k=%zu u=%d byte %zu: %d want %d", v.name, m, k, u, i, got[i], want[i]);
        }
      }
  });
}
