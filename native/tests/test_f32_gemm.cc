// Every compiled f32 GEMM variant this CPU can run, through the real driver, against the scalar reference.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "runtime/core/aligned.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/f32/pack.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Tolerance: |c - ref| <= kF32GemmRelTol * sum_p |a_ip·b_pj| + kF32GemmAbsTol. f32 accumulation of k terms in
// blocked order has error below k·eps·sum|ab|; with k <= 1100 that is < 1.3e-4·sum|ab|: 1e-5 per term is generous
// for random signs (errors grow ~ sqrt(k)) yet catches any wrong index.
constexpr double kF32GemmRelTol = 2e-6 * 64;
constexpr double kF32GemmAbsTol = 1e-6;

bool run_case(const F32GemmVariant& v, size_t m, size_t n, size_t k, bool trans_b, bool use_bias, int act,
              size_t ldc_pad, uint64_t seed) {
  sttest::Rng rng(seed);
  sttest::Flush<float> a(m * k), b(k * n), bias(n);
  for (size_t i = 0; i < m * k; i++) a[i] = rng.uniform();
  for (size_t i = 0; i < k * n; i++) b[i] = rng.uniform();
  for (size_t i = 0; i < n; i++) bias[i] = rng.uniform();
  const size_t ldc = n + ldc_pad;
  sttest::Flush<float> c(m * ldc), ref(m * ldc);
  for (size_t i = 0; i < m * ldc; i++) c[i] = ref[i] = 12345.0f;  // sentinel in the stride gap
  const size_t ldb = trans_b ? k : n;
  auto packed = aligned_alloc_array<float>(packed_b_f32_floats(k, n, v.nr));
  pack_b_f32(b.data(), ldb, trans_b, k, n, v.nr, packed.get());
  F32GemmArgs g{m, n, k, a.data(), k, packed.get(), c.data(), ldc, use_bias ? bias.data() : nullptr, act};
  f32_gemm_run(v, g);
  f32_gemm_reference(m, n, k, a.data(), k, b.data(), ldb, trans_b, ref.data(), ldc, use_bias ? bias.data() : nullptr, act);
  if (!sttest::stride_gap_untouched(c.data(), m, n, ldc, 12345.0f, v.name, k)) return false;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      const float got = c[i * ldc + j], want = ref[i * ldc + j];
      double mag = 0;
      for (size_t p = 0; p < k; p++)
        mag += std::fabs(double(a[i * k + p]) * (trans_b ? b[j * k + p] : b[p * n + j]));
      const double tol = kF32GemmRelTol * mag + kF32GemmAbsTol + (use_bias ? 1e-6 : 0);
      if (!(std::fabs(double(got) - double(want)) <= tol)) {
        std::fprintf(stderr, "  %s m=%zu n=%zu k=%zu transB=%d bias=%d act=%d: C[%zu][%zu]=%g want %g (tol %g)\n",
                     v.name, m, n, k, int(trans_b), int(use_bias), act, i, j, got, want, tol);
        return false;
      }
    }
  return true;
}
}  // namespace

TEST(f32_gemm_variants_sweep_tile_edges) {
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    const size_t kc = f32_gemm_blocking(v).kc;
    std::vector<size_t> ms, ns = {1, v.nr - 1, v.nr, v.nr + 1, 3 * v.nr + 1};
    for (size_t m = 1; m <= v.mr + 1; m++) ms.push_back(m);
    ms.push_back(2 * v.mr + 1);  // first size past the small-M path
    ms.push_back(f32_gemm_blocking(v).mc + 3);
    std::vector<size_t> ks = {1, 2, 7, kc - 1, kc, kc + 1};
    uint64_t seed = 1;
    for (size_t m : ms)
      for (size_t n : ns)
        for (size_t k : ks) {
          bool tb = (seed % 2) == 0;
          CHECK(run_case(v, m, n, k, tb, seed % 3 == 0, int(seed % 3), seed % 5 == 0 ? 3 : 0, seed), "%s", v.name);
          seed++;
        }
  }
}

TEST(f32_gemm_odd_shapes_and_epilogues) {
  const size_t shapes[][3] = {{1, 63, 64}, {63, 65, 63}, {64, 64, 64}, {65, 1, 255}, {1, 255, 1023}, {17, 33, 300}};
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    for (auto& s : shapes)
      for (int act = 0; act < 3; act++)
        for (int tb = 0; tb < 2; tb++) CHECK(run_case(v, s[0], s[1], s[2], tb, true, act, 1, 77 + act), "%s", v.name);
  }
}

TEST(f32_gemm_k_zero_gives_activation_of_bias) {
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    CHECK(run_case(v, 5, 37, 0, false, true, kActRelu, 0, 3), "%s", v.name);
    CHECK(run_case(v, 5, 37, 0, true, false, kActNone, 0, 3), "%s", v.name);
  }
}

TEST(f32_gemm_nan_inf_propagate) {
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    const size_t m = 3, n = 20, k = 9;
    std::vector<float> a(m * k, 1.0f), b(k * n, 1.0f), c(m * n);
    a[0 * k + 4] = NAN;            // row 0 all NaN
    a[1 * k + 2] = INFINITY;       // row 1 +Inf
    b[3 * n + 5] = -INFINITY;      // column 5: row 1 is Inf + -Inf = NaN, row 2 -Inf
    auto packed = aligned_alloc_array<float>(packed_b_f32_floats(k, n, v.nr));
    pack_b_f32(b.data(), n, false, k, n, v.nr, packed.get());
    for (int act = 0; act < 3; act++) {
      F32GemmArgs g{m, n, k, a.data(), k, packed.get(), c.data(), n, nullptr, act};
      f32_gemm_run(v, g);
      for (size_t j = 0; j < n; j++) CHECK(std::isnan(c[j]), "%s act=%d row0 col %zu = %g", v.name, act, j, c[j]);
      CHECK(std::isnan(c[n + 5]), "%s act=%d inf-inf", v.name, act);
      if (act == kActNone) {
        CHECK(std::isinf(c[n + 0]) && c[n + 0] > 0, "%s +inf", v.name);
        CHECK(std::isinf(c[2 * n + 5]) && c[2 * n + 5] < 0, "%s -inf", v.name);
      } else if (act == kActRelu) {
        CHECK(c[2 * n + 5] == 0.0f, "%s relu(-inf)", v.name);
      } else {
        CHECK(std::isnan(c[2 * n + 5]) || c[2 * n + 5] == 0.0f, "%s gelu(-inf)=%g", v.name, c[2 * n + 5]);
        CHECK(std::isinf(c[n + 0]), "%s gelu(+inf)=%g", v.name, c[n]);
      }
    }
  }
}

TEST(f32_gemm_strided_a_twin_matches_packed_kernel) {
  // ukernel_sa reads A in place (row stride lda > k, buffer flush against its end): the same sums, in the same
  // order, as the packed kernel on pack_a_f32's panel — bit for bit — for every row count 1..mr_sa (rows past mr
  // against a second packed call), column counts around NR, K around the unroll, with accumulate and the
  // bias/activation epilogue.
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    sttest::Rng rng(91);
    for (size_t m = 1; m <= v.mr_sa; m++)
      for (size_t n : {size_t(1), v.nr - 1, v.nr})
        for (size_t k : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(64), size_t(129)})
          for (unsigned flags : {0u, kGemmAccumulate | kGemmEpilogue}) {
            const size_t lda = k + 5, ldc = n + 2;
            sttest::Flush<float> a((m - 1) * lda + k), bias(v.nr);
            std::vector<float> b(std::max<size_t>(k, 1) * v.nr), ap(std::max<size_t>(k, 1) * v.mr, 0.0f);
            for (size_t i = 0; i < a.n; i++) a[i] = rng.uniform();
            for (float& x : b) x = rng.uniform();
            for (size_t i = 0; i < v.nr; i++) bias[i] = rng.uniform();
            std::vector<float> c1(m * ldc), c2(m * ldc);
            for (size_t i = 0; i < c1.size(); i++) c1[i] = c2[i] = rng.uniform();
            const int act = int(k % 3);
            for (size_t i = 0; i < m; i += v.mr) {
              const size_t rows = std::min(v.mr, m - i);
              pack_a_f32(a.data() + i * lda, lda, rows, k, v.mr, ap.data());
              v.ukernel(rows, n, k, ap.data(), b.data(), c1.data() + i * ldc, ldc, flags, bias.data(), act);
            }
            v.ukernel_sa(m, n, k, a.data(), lda, b.data(), c2.data(), ldc, flags, bias.data(), act);
            size_t bad = 0;
            for (size_t i = 0; i < c1.size(); i++) bad += std::memcmp(&c1[i], &c2[i], sizeof(float)) != 0;
            CHECK(bad == 0, "%s m=%zu n=%zu k=%zu flags=%u: %zu differ", v.name, m, n, k, flags, bad);
          }
  }
}

TEST(f32_gemm_row_scale_flag) {
  // kGemmRowScale (the attention's 1/Σ on its P·V rows): row i of A·B times bias[i] in registers, then stored or,
  // with kGemmAccumulate, added to C — bit for bit the product stored plainly, times the factor, (plus C): one
  // rounding each way. Both entries, every row count, columns around NR (a sentinel past n stays), K 0, 1 and 33.
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    sttest::Rng rng(17);
    for (int sa = 0; sa < 2; sa++)
      for (size_t m = 1; m <= (sa ? v.mr_sa : v.mr); m++)
        for (size_t n : {size_t(1), v.nr - 1, v.nr})
          for (size_t k : {size_t(0), size_t(1), size_t(33)})
            for (unsigned acc : {0u, unsigned(kGemmAccumulate)}) {
              const size_t ldc = v.nr + 3, lda = k + 3;
              std::vector<float> a(m * std::max<size_t>(lda, 1)), ap(std::max<size_t>(k, 1) * v.mr, 0.0f);
              std::vector<float> b(std::max<size_t>(k, 1) * v.nr), f(m), c0(m * ldc), plain(m * ldc, 0.0f), c(m * ldc);
              for (float& x : a) x = rng.uniform() * 2 - 1;
              for (float& x : b) x = rng.uniform() * 2 - 1;
              for (float& x : f) x = rng.uniform() * 3;
              for (float& x : c0) x = rng.uniform();
              c = c0;
              auto call = [&](float* cc, unsigned flags, const float* bias) {
                if (sa) return v.ukernel_sa(m, n, k, a.data(), lda, b.data(), cc, ldc, flags, bias, kActNone);
                pack_a_f32(a.data(), lda, m, k, v.mr, ap.data());
                v.ukernel(m, n, k, ap.data(), b.data(), cc, ldc, flags, bias, kActNone);
              };
              call(plain.data(), 0u, nullptr);
              call(c.data(), kGemmRowScale | acc, f.data());
              size_t bad = 0;
              for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < ldc; j++) {
                  const float scaled = plain[i * ldc + j] * f[i];
                  const float want = j >= n ? c0[i * ldc + j] : acc ? scaled + c0[i * ldc + j] : scaled;
                  bad += std::memcmp(&c[i * ldc + j], &want, sizeof(float)) != 0;
                }
              CHECK(bad == 0, "%s sa=%d m=%zu n=%zu k=%zu acc=%u: %zu differ", v.name, sa, m, n, k, acc, bad);
            }
  }
}

TEST(f32_gemm_tall_strided_a_tile_in_the_driver) {
  // The blocked path reads A in place in tiles of mr_sa rows when A's row stride (here k) is at least 512 B away
  // from a multiple of 4 KiB (k = 128, 384, 385 floats), of mr rows otherwise (k = 1024): row counts around the
  // tile and the M block, columns around NR, with and without the epilogue.
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    const size_t mt = v.mr_sa, mc = f32_gemm_blocking(v).mc;
    const std::vector<size_t> ms = {2 * v.mr + 1, 2 * mt, 2 * mt + 1, 3 * mt - 1, mc + 3, mc + mt + 1, 100};
    const std::vector<size_t> ns = {1, v.nr - 1, v.nr, v.nr + 1, 3 * v.nr + 1};
    uint64_t seed = 500;
    for (size_t k : {size_t(128), size_t(384), size_t(385), size_t(1024)})
      for (size_t m : ms)
        for (size_t n : ns) {
          CHECK(run_case(v, m, n, k, seed % 2 == 0, seed % 3 != 0, int(seed % 3), seed % 4 == 0 ? 5 : 0, seed), "%s",
                v.name);
          seed++;
        }
  }
}
