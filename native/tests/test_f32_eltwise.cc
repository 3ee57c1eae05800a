// Every compiled elementwise variant this CPU can run against the scalar reference, lengths around the vector width.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/vec_math.h"
#include "common/vec_scalar.h"
#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// exp/erf polynomials are accurate to a few ulp (2e-7 relative) and 1.5e-7 absolute for erf.
constexpr float kEltwiseAbsTol = 2e-6f;
constexpr float kEltwiseRelTol = 4e-6f;

bool close(float got, float want) { return sttest::close_to(got, want, kEltwiseAbsTol, kEltwiseRelTol); }

const size_t kLens[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 384, 1023};
}  // namespace

TEST(f32_eltwise_variants_match_reference) {
  const F32EltwiseVariant& R = f32_eltwise_reference;
  sttest::for_each_runnable(f32_eltwise_table, 1, [&](const F32EltwiseVariant& v, sttest::Rng& rng) {
    for (size_t n : kLens) {
      sttest::Flush<float> a(n), b(n), out(n), ref(n);
      for (size_t i = 0; i < n; i++) {
        a[i] = rng.uniform() * 8;
        b[i] = rng.uniform() * 8;
      }
      if (n > 5) {
        a[1] = NAN;
        a[2] = INFINITY;
        a[3] = -INFINITY;
        a[4] = -0.0f;
        a[5] = 1e-40f;  // subnormal
      }
      if (n > 7) b[7] = NAN;  // Max / Min propagate a NaN of either side
      for (int op = 0; op <= kBinLast; op++) {
        v.binary(op, n, a.data(), b.data(), out.data());
        R.binary(op, n, a.data(), b.data(), ref.data());
        for (size_t i = 0; i < n; i++) CHECK(close(out[i], ref[i]), "%s binary op=%d n=%zu i=%zu", v.name, op, n, i);
      }
      // Unary ops over [-12, 12] with small magnitudes (tanh's series branch) and the specials (no subnormal: a
      // denormals-are-zero mode would change sqrt / rsqrt of it).
      sttest::Flush<float> u(n);
      for (size_t i = 0; i < n; i++) u[i] = (i % 3 == 0 ? 0.05f : 12.0f) * rng.uniform();
      if (n > 5) {
        u[1] = NAN;
        u[2] = INFINITY;
        u[3] = -INFINITY;
        u[4] = -0.0f;
        u[5] = 0.0625f;
      }
      for (int op = 0; op <= kUnLast; op++) {
        const float p0 = op == kUnClip ? -1.5f : 0.3f, p1 = 6.0f;
        v.unary(op, n, u.data(), p0, p1, out.data());
        R.unary(op, n, u.data(), p0, p1, ref.data());
        for (size_t i = 0; i < n; i++)
          CHECK(close(out[i], ref[i]), "%s unary op=%d n=%zu i=%zu x=%g got %g want %g", v.name, op, n, i, u[i], out[i], ref[i]);
        for (size_t i = 0; i < n; i++) out[i] = u[i];  // in place (x == out) gives the same
        v.unary(op, n, out.data(), p0, p1, out.data());
        for (size_t i = 0; i < n; i++) CHECK(close(out[i], ref[i]), "%s unary in place op=%d n=%zu i=%zu", v.name, op, n, i);
      }
      for (int act = 1; act < 3; act++) {
        v.activation(act, n, a.data(), out.data());
        R.activation(act, n, a.data(), ref.data());
        for (size_t i = 0; i < n; i++)
          CHECK(close(out[i], ref[i]) || (std::isnan(ref[i]) == std::isnan(out[i]) && std::isinf(a[i])),
                "%s act=%d n=%zu i=%zu x=%g got %g want %g", v.name, act, n, i, a[i], out[i], ref[i]);
      }
    }
    // Row ops: rows × cols with a broadcast row.
    for (size_t cols : kLens) {
      const size_t rows = 3;
      sttest::Flush<float> x(rows * cols), row(cols), out(rows * cols), ref(rows * cols), g(cols), bt(cols);
      for (size_t i = 0; i < rows * cols; i++) x[i] = rng.uniform() * 10;
      for (size_t i = 0; i < cols; i++) {
        row[i] = rng.uniform();
        g[i] = rng.uniform() + 1;
        bt[i] = rng.uniform();
      }
      for (int op = 0; op <= kBinLast; op++) {
        v.binary_row(op, rows, cols, x.data(), row.data(), out.data());
        R.binary_row(op, rows, cols, x.data(), row.data(), ref.data());
        for (size_t i = 0; i < rows * cols; i++) CHECK(close(out[i], ref[i]), "%s binary_row", v.name);
      }
      sttest::Flush<float> sum_in(rows * cols), fused(rows * cols), res(rows * cols);
      for (size_t i = 0; i < rows * cols; i++) res[i] = rng.uniform() * 4 - 2;
      for (int log = 0; log < 2; log++) {
        v.softmax(log, rows, cols, x.data(), nullptr, out.data());
        R.softmax(log, rows, cols, x.data(), nullptr, ref.data());
        for (size_t i = 0; i < rows * cols; i++)
          CHECK(close(out[i], ref[i]), "%s softmax log=%d cols=%zu i=%zu got %g want %g", v.name, log, cols, i, out[i], ref[i]);
        // With a row added first (the attention mask): the reference, and bit for bit the unfused add + softmax.
        v.softmax(log, rows, cols, x.data(), row.data(), fused.data());
        R.softmax(log, rows, cols, x.data(), row.data(), ref.data());
        v.binary_row(kBinAdd, rows, cols, x.data(), row.data(), sum_in.data());
        v.softmax(log, rows, cols, sum_in.data(), nullptr, out.data());
        for (size_t i = 0; i < rows * cols; i++) {
          CHECK(close(fused[i], ref[i]), "%s softmax+row log=%d cols=%zu i=%zu got %g want %g", v.name, log, cols, i, fused[i], ref[i]);
          CHECK(fused[i] == out[i], "%s softmax+row log=%d cols=%zu i=%zu: %g, unfused %g", v.name, log, cols, i, fused[i], out[i]);
        }
        // In place (x == out), as the attention runs it.
        for (size_t i = 0; i < rows * cols; i++) sum_in[i] = x[i];
        v.softmax(log, rows, cols, sum_in.data(), row.data(), sum_in.data());
        for (size_t i = 0; i < rows * cols; i++) CHECK(sum_in[i] == fused[i], "%s softmax+row in place cols=%zu i=%zu", v.name, cols, i);
      }
      v.layernorm(rows, cols, x.data(), nullptr, g.data(), bt.data(), 1e-5f, out.data());
      R.layernorm(rows, cols, x.data(), nullptr, g.data(), bt.data(), 1e-5f, ref.data());
      for (size_t i = 0; i < rows * cols; i++)
        CHECK(std::fabs(out[i] - ref[i]) <= 2e-5f * (1 + std::fabs(ref[i])), "%s layernorm cols=%zu i=%zu got %g want %g",
              v.name, cols, i, out[i], ref[i]);
      // The residual form: against the reference, and bit for bit an Add before the layernorm; also in place on x.
      v.layernorm(rows, cols, x.data(), res.data(), g.data(), bt.data(), 1e-5f, fused.data());
      R.layernorm(rows, cols, x.data(), res.data(), g.data(), bt.data(), 1e-5f, ref.data());
      v.binary(kBinAdd, rows * cols, x.data(), res.data(), sum_in.data());
      v.layernorm(rows, cols, sum_in.data(), nullptr, g.data(), bt.data(), 1e-5f, out.data());
      for (size_t i = 0; i < rows * cols; i++) {
        CHECK(std::fabs(fused[i] - ref[i]) <= 2e-5f * (1 + std::fabs(ref[i])), "%s layernorm+residual cols=%zu i=%zu got %g want %g",
              v.name, cols, i, fused[i], ref[i]);
        CHECK(fused[i] == out[i], "%s layernorm+residual cols=%zu i=%zu: %g, unfused %g", v.name, cols, i, fused[i], out[i]);
      }
      for (size_t i = 0; i < rows * cols; i++) sum_in[i] = x[i];
      v.layernorm(rows, cols, sum_in.data(), res.data(), nullptr, nullptr, 1e-5f, sum_in.data());
      R.layernorm(rows, cols, x.data(), res.data(), nullptr, nullptr, 1e-5f, ref.data());
      for (size_t i = 0; i < rows * cols; i++)
        CHECK(std::fabs(sum_in[i] - ref[i]) <= 2e-5f * (1 + std::fabs(ref[i])), "%s layernorm+residual in place cols=%zu i=%zu", v.name, cols, i);
      // Each affine form (gamma only, beta only); a constant row is beta (its variance is 0: eps alone scales it);
      // a NaN in row 1 makes that row NaN and leaves the others alone.
      for (int form = 1; form < 3; form++) {
        const float* gg = form == 1 ? g.data() : nullptr;
        const float* bb = form == 2 ? bt.data() : nullptr;
        v.layernorm(rows, cols, x.data(), nullptr, gg, bb, 1e-3f, out.data());
        R.layernorm(rows, cols, x.data(), nullptr, gg, bb, 1e-3f, ref.data());
        for (size_t i = 0; i < rows * cols; i++)
          CHECK(std::fabs(out[i] - ref[i]) <= 2e-5f * (1 + std::fabs(ref[i])), "%s layernorm form=%d cols=%zu i=%zu got %g want %g",
                v.name, form, cols, i, out[i], ref[i]);
      }
      for (size_t i = 0; i < rows * cols; i++) sum_in[i] = i < cols ? 2.5f : x[i];
      if (cols > 1) sum_in[cols + cols / 2] = NAN;
      v.layernorm(rows, cols, sum_in.data(), nullptr, g.data(), bt.data(), 1e-5f, out.data());
      R.layernorm(rows, cols, sum_in.data(), nullptr, g.data(), bt.data(), 1e-5f, ref.data());
      for (size_t i = 0; i < rows * cols; i++) {
        if (i < cols) CHECK(out[i] == bt[i], "%s layernorm constant row cols=%zu i=%zu got %g want %g", v.name, cols, i, out[i], bt[i]);
        else if (cols > 1 && i < 2 * cols) CHECK(std::isnan(out[i]), "%s layernorm NaN row cols=%zu i=%zu got %g", v.name, cols, i, out[i]);
        else CHECK(std::fabs(out[i] - ref[i]) <= 2e-5f * (1 + std::fabs(ref[i])), "%s layernorm after NaN row cols=%zu i=%zu", v.name, cols, i);
      }
      // Rows run four at a time and the rest one by one: 9 rows in one call are the same bits as 9 calls of one row
      // (with and without a residual), and match the reference.
      {
        const size_t nr = 9;
        sttest::Flush<float> bx(nr * cols), br(nr * cols), bo(nr * cols), b1(nr * cols), bref(nr * cols);
        for (size_t i = 0; i < nr * cols; i++) {
          bx[i] = rng.uniform() * 6 - 1;
          br[i] = rng.uniform() - 0.5f;
        }
        for (int withres = 0; withres < 2; withres++) {
          const float* rs = withres ? br.data() : nullptr;
          v.layernorm(nr, cols, bx.data(), rs, g.data(), bt.data(), 1e-5f, bo.data());
          for (size_t r = 0; r < nr; r++)
            v.layernorm(1, cols, bx.data() + r * cols, rs ? rs + r * cols : nullptr, g.data(), bt.data(), 1e-5f, b1.data() + r * cols);
          R.layernorm(nr, cols, bx.data(), rs, g.data(), bt.data(), 1e-5f, bref.data());
          for (size_t i = 0; i < nr * cols; i++) {
            CHECK(bo[i] == b1[i], "%s layernorm 9 rows res=%d cols=%zu i=%zu: %g, row by row %g", v.name, withres, cols, i, bo[i], b1[i]);
            CHECK(std::fabs(bo[i] - bref[i]) <= 2e-5f * (1 + std::fabs(bref[i])), "%s layernorm 9 rows res=%d cols=%zu i=%zu got %g want %g",
                  v.name, withres, cols, i, bo[i], bref[i]);
          }
        }
      }
      // Masked scores (-inf, or far below the row's max) get exactly 0, the others still sum to 1 (a row with at
      // least one finite score; an all -inf row is NaN, as 0/0).
      if (cols > 1) x[0] = -INFINITY;
      if (cols > 2) x[2] = -1e30f;
      v.softmax(false, 1, cols, x.data(), nullptr, out.data());
      CHECK(cols == 1 || (out[0] == 0.0f && (cols <= 2 || out[2] == 0.0f)), "%s softmax masked cols=%zu got %g", v.name, cols, out[0]);
      if (cols > 3) {
        double sum = 0;
        for (size_t i = 0; i < cols; i++) sum += out[i];
        CHECK(std::fabs(sum - 1) < 1e-5, "%s softmax masked row sums to %g", v.name, sum);
      }
      // NaN anywhere in a softmax row makes the whole row NaN.
      x[1] = NAN;
      v.softmax(false, 1, cols, x.data(), nullptr, out.data());
      for (size_t i = 0; i < cols && cols > 1; i++) CHECK(std::isnan(out[i]), "%s softmax NaN row", v.name);
    }
  });
}

// vexp_nonpos (softmax's and erf's exp) must give vexp's exact bits on x <= 0: the lower clamp, the subnormal results
// near it, -0, -inf and NaN. Checked on the scalar traits (the vector traits run the same operations; the variant
// tests above cover them against the reference).
TEST(f32_vexp_nonpos_matches_vexp_bitwise) {
  using V = VecScalar;
  auto same = [](float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, 4) == 0; };
  std::vector<float> xs = {0.0f, -0.0f, -1e-40f, -1e-30f, -0.5f, -1.0f, -87.0f, -87.33654f, std::nextafter(-87.33654f, 0.0f),
                           std::nextafter(-87.33654f, -100.0f), -88.0f, -103.0f, -1e4f, -INFINITY, NAN};
  // Every 4099th float between -90 and 0 (about 270 000 values, all exponents).
  uint32_t lo_bits;
  const float lo = -90.0f;
  std::memcpy(&lo_bits, &lo, 4);
  for (uint32_t b = 0x80000000u; b <= lo_bits; b += 4099) {
    float x;
    std::memcpy(&x, &b, 4);
    xs.push_back(x);
  }
  size_t bad = 0;
  for (float x : xs) {
    const float a = vexp_nonpos<V>(x), b = vexp<V>(x);
    if (!same(a, b) && bad++ < 5) CHECK(false, "vexp_nonpos(%.9g) = %.9g, vexp = %.9g", x, a, b);
  }
  CHECK(bad == 0, "%zu of %zu values differ", bad, xs.size());
}

// vgelu_rational (common/vec_math.h; the float32 and int8 GEMMs' GELU epilogue, whose every ISA variant
// test_f32_gemm.cc checks against the double reference) on the scalar traits over a dense sweep of [-10, 10] (every
// 2^-12, the clamp edges) and the specials, against double erf: GELU within kGeluPhiTol · |x| (the error of its Φ)
// plus a few ulp of the result; exactly x from the clamp at 5.4146 on and exactly 0 below -5.4146 (the rational rounds
// to exactly ±1/2 there, with FMA or, as these scalar traits on x86, without).
constexpr double kGeluPhiTol = 2.5e-7;  // measured 2.2e-7 here, 1.9e-7 with FMA (AVX2 / AVX-512)
constexpr double kGeluUlpTol = 4.8e-7;  // 4 ulp relative
TEST(f32_gelu_rational_accuracy_sweep) {
  using V = VecScalar;
  std::vector<float> xs;
  for (int i = -10 * 4096; i <= 10 * 4096; i++) xs.push_back(float(i) / 4096.0f);
  const float edge = 5.4146f;
  for (float e : {5.4f, edge, std::nextafter(edge, 0.0f), std::nextafter(edge, 9.0f), 1e-30f, 1e-40f, 0.0f, 30.0f, 1e30f})
    for (float s : {1.0f, -1.0f}) xs.push_back(s * e);
  double worst = 0;
  size_t bad = 0;
  for (float xf : xs) {
    const float g = vgelu_rational<V>(xf);
    const double x = xf, gw = 0.5 * x * (1.0 + std::erf(x * M_SQRT1_2));
    const double gerr = std::fabs(double(g) - gw);
    const double gtol = kGeluPhiTol * std::fabs(x) + kGeluUlpTol * std::fabs(gw);
    worst = std::max(worst, gerr / (gtol + 1e-45));
    const bool tail = (xf >= edge && g != xf) || (xf <= -edge && g != 0.0f);
    if ((gerr > gtol || tail) && bad++ < 5) CHECK(false, "x=%.9g gelu %.9g (want %.9g)", x, g, gw);
  }
  CHECK(bad == 0, "%zu of %zu values out of tolerance", bad, xs.size());
  const float gi = vgelu_rational<V>(INFINITY), gm = vgelu_rational<V>(-INFINITY), gn = vgelu_rational<V>(NAN);
  const float gz = vgelu_rational<V>(-0.0f);
  CHECK(gi == INFINITY && std::isnan(gm) && std::isnan(gn) && gz == 0.0f, "gelu specials %g %g %g %g", gi, gm, gn, gz);
  std::printf("  gelu worst err / tolerance %.3g\n", worst);
}

// Many rows of many widths (the vector tails; softmax_scaled's blocks of up to 16 rows, fewer past 256 columns, and a
// partial last block), softmax against the reference; softmax_scaled (attention's unnormalized form, the scale and a
// mask row folded in): exp values and 1/Σ against the reference, out·1/Σ against the plain softmax, with no mask,
// one mask row for all (stride 0) and one per row, in place, and a NaN row whose 1/Σ (so its out·1/Σ) alone is NaN.
TEST(f32_softmax_blocked_rows_and_scaled) {
  const F32EltwiseVariant& R = f32_eltwise_reference;
  sttest::for_each_runnable(f32_eltwise_table, 5, [&](const F32EltwiseVariant& v, sttest::Rng& rng) {
    for (size_t cols : {1, 7, 16, 33, 40, 128, 257, 1023}) {
      const size_t rows = 37;
      sttest::Flush<float> x(rows * cols), mask(rows * cols), out(rows * cols), ref(rows * cols), plain(rows * cols);
      sttest::Flush<float> inv(rows), inv_ref(rows), t(rows * cols);
      for (size_t i = 0; i < rows * cols; i++) {
        x[i] = rng.uniform() * 12 - 6;
        mask[i] = (i % 7 == 3) ? -10000.0f : rng.uniform();
      }
      for (int log = 0; log < 2; log++) {
        v.softmax(log, rows, cols, x.data(), nullptr, out.data());
        R.softmax(log, rows, cols, x.data(), nullptr, ref.data());
        for (size_t i = 0; i < rows * cols; i++)
          CHECK(close(out[i], ref[i]), "%s softmax log=%d rows=%zu cols=%zu i=%zu got %g want %g", v.name, log, rows, cols, i,
                out[i], ref[i]);
      }
      for (int mf = 0; mf < 3; mf++) {
        const float scale = mf == 1 ? 1.0f : 0.3f;
        const float* m = mf == 0 ? nullptr : mask.data();
        const size_t ms = mf == 2 ? cols : 0;
        x[5 * cols + cols / 2] = mf == 2 ? NAN : x[5 * cols + cols / 2 + (cols > 1)];
        v.softmax_scaled(rows, cols, x.data(), scale, m, ms, out.data(), inv.data());
        R.softmax_scaled(rows, cols, x.data(), scale, m, ms, ref.data(), inv_ref.data());
        // The plain softmax of the same t = scale·x + mask (fused-multiply-add rounding, as softmax_scaled).
        for (size_t r = 0; r < rows; r++)
          for (size_t c = 0; c < cols; c++)
            t[r * cols + c] = m ? std::fma(x[r * cols + c], scale, m[r * ms + c]) : x[r * cols + c] * scale;
        R.softmax(false, rows, cols, t.data(), nullptr, plain.data());
        for (size_t r = 0; r < rows; r++) {
          CHECK(sttest::close_to(inv[r], inv_ref[r], kEltwiseAbsTol, kEltwiseRelTol) || (std::isnan(inv[r]) && std::isnan(inv_ref[r])),
                "%s softmax_scaled mask=%d cols=%zu row %zu: 1/sum %g want %g", v.name, mf, cols, r, inv[r], inv_ref[r]);
          for (size_t c = 0; c < cols; c++) {
            const size_t i = r * cols + c;
            const bool nan_row = mf == 2 && r == 5;
            // A NaN row: its exps may be finite apart from the NaN's own; 1/Σ is NaN, and so every out·1/Σ.
            CHECK(nan_row || close(out[i], ref[i]), "%s softmax_scaled mask=%d cols=%zu i=%zu got %g want %g",
                  v.name, mf, cols, i, out[i], ref[i]);
            CHECK(nan_row ? std::isnan(out[i] * inv[r]) : close(out[i] * inv[r], plain[i]),
                  "%s softmax_scaled·1/sum mask=%d cols=%zu i=%zu got %g want %g", v.name, mf, cols, i, out[i] * inv[r], plain[i]);
          }
        }
        // In place (x == out), as the attention runs it: bit for bit the same.
        for (size_t i = 0; i < rows * cols; i++) t[i] = x[i];
        v.softmax_scaled(rows, cols, t.data(), scale, m, ms, t.data(), inv_ref.data());
        for (size_t i = 0; i < rows * cols; i++)
          CHECK(t[i] == out[i] || (std::isnan(t[i]) && std::isnan(out[i])), "%s softmax_scaled in place mask=%d cols=%zu i=%zu", v.name, mf, cols, i);
      }
    }
  });
}

// binary_row with one column (an ONNX op against a 0-d constant) takes the scalar loop: against the scalar reference
// (NaN where it has NaN), and bit for bit the binary op against the value spread over a row, for every op, at lengths
// around the vector width (buffers end at a page boundary), with NaN in x and as the scalar (max/min keep a NaN from
// either side).
TEST(f32_binary_row_one_column_matches_a_spread_scalar) {
  const F32EltwiseVariant& R = f32_eltwise_reference;
  sttest::for_each_runnable(f32_eltwise_table, 3, [&](const F32EltwiseVariant& v, sttest::Rng& rng) {
    for (size_t rows : kLens) {
      sttest::Flush<float> x(rows), s(1), spread(rows), out(rows), want(rows), ref(rows);
      for (size_t i = 0; i < rows; i++) x[i] = i % 7 == 3 ? NAN : rng.uniform() * 8 - 4;
      for (float sv : {0.37f, -2.5f, float(NAN)}) {
        s[0] = sv;
        for (size_t i = 0; i < rows; i++) spread[i] = sv;
        for (int op = 0; op <= kBinLast; op++) {
          v.binary_row(op, rows, 1, x.data(), s.data(), out.data());
          v.binary(op, rows, x.data(), spread.data(), want.data());
          R.binary_row(op, rows, 1, x.data(), s.data(), ref.data());
          for (size_t i = 0; i < rows; i++)
            CHECK(std::isnan(ref[i]) ? std::isnan(out[i]) : close(out[i], ref[i]), "%s op=%d rows=%zu s=%g i=%zu got %g, reference %g",
                  v.name, op, rows, double(sv), i, out[i], ref[i]);
          for (size_t i = 0; i < rows; i++)
            CHECK(std::memcmp(&out[i], &want[i], sizeof(float)) == 0, "%s op=%d rows=%zu s=%g i=%zu got %g want %g",
                  v.name, op, rows, double(sv), i, out[i], want[i]);
        }
      }
    }
  });
}
