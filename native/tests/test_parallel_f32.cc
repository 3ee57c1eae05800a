// f32 GEMM and elementwise drivers under 1..8 threads: the partition tiles C exactly, results are bit-identical to
// one thread (M/N splits) or within the reference tolerance (K splits), and concurrent callers do not interfere.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "cpu/dispatch.h"
#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "runtime/core/aligned.h"
#include "runtime/f32/eltwise_driver.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/f32/pack.h"
#include "runtime/core/parallel.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

// Same bound as test_f32_gemm.cc, applied to a K-split sum (different association of the same products).
constexpr double kF32GemmRelTol = 2e-6 * 64;
constexpr double kF32GemmAbsTol = 1e-6;

struct Problem {
  size_t m, n, k;
  bool bias;
  int act;
  std::vector<float> a, b, bias_v;
  AlignedPtr<float> packed;
  Problem(const F32GemmVariant& v, size_t m_, size_t n_, size_t k_, bool bias_, int act_, uint64_t seed)
      : m(m_), n(n_), k(k_), bias(bias_), act(act_), a(m_ * k_), b(k_ * n_), bias_v(n_) {
    sttest::Rng rng(seed);
    for (auto& x : a) x = rng.uniform();
    for (auto& x : b) x = rng.uniform();
    for (auto& x : bias_v) x = rng.uniform();
    packed = aligned_alloc_array<float>(packed_b_f32_floats(k, n, v.nr));
    pack_b_f32(b.data(), n, false, k, n, v.nr, packed.get());
  }
  std::vector<float> run(const F32GemmVariant& v) const {
    std::vector<float> c(m * n, 777.0f);
    F32GemmArgs g{m, n, k, a.data(), k, packed.get(), c.data(), n, bias ? bias_v.data() : nullptr, act};
    f32_gemm_run(v, g);
    return c;
  }
  bool near_reference(const std::vector<float>& c) const {
    std::vector<float> ref(m * n);
    f32_gemm_reference(m, n, k, a.data(), k, b.data(), n, false, ref.data(), n, bias ? bias_v.data() : nullptr, act);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double mag = 0;
        for (size_t p = 0; p < k; p++) mag += std::fabs(double(a[i * k + p]) * b[p * n + j]);
        const double tol = kF32GemmRelTol * mag + kF32GemmAbsTol + 1e-6;
        if (!(std::fabs(double(c[i * n + j]) - ref[i * n + j]) <= tol)) {
          std::fprintf(stderr, "  m=%zu n=%zu k=%zu C[%zu][%zu]=%g want %g\n", m, n, k, i, j, c[i * n + j], ref[i * n + j]);
          return false;
        }
      }
    return true;
  }
};

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}
}  // namespace

TEST(f32_gemm_partition_tiles_c_exactly) {
  const size_t ms[] = {1, 7, 16, 17, 95, 96, 97, 300, 1024, 1023};
  const size_t ns[] = {1, 31, 32, 33, 100, 1024, 4096};
  const size_t ks[] = {0, 1, 64, 511, 4096, 65536};
  for (const F32GemmVariant& v : f32_gemm_table) {
    for (size_t T : {1, 2, 3, 4, 8, 16, 64})
      for (size_t m : ms)
        for (size_t n : ns)
          for (size_t k : ks) {
            const F32GemmPartition p = f32_gemm_partition(v, m, n, k, T);
            CHECK(p.tm >= 1 && p.tn >= 1 && p.tk >= 1, "empty grid");
            CHECK(p.rows_per % v.mr == 0 || p.tm == 1, "%s rows_per %zu not a multiple of mr", v.name, p.rows_per);
            CHECK(p.cols_per % v.nr == 0, "%s cols_per %zu not a multiple of nr", v.name, p.cols_per);
            // Every row/column/K index lands in exactly one chunk, and no chunk is empty.
            CHECK(p.tm * p.rows_per >= m && (p.tm - 1) * p.rows_per < std::max<size_t>(m, 1), "M cover m=%zu", m);
            CHECK(p.tn * p.cols_per >= n && (p.tn - 1) * p.cols_per < std::max<size_t>(n, 1), "N cover n=%zu", n);
            CHECK(p.tk * p.k_per >= k && (k == 0 || (p.tk - 1) * p.k_per < k), "K cover k=%zu", k);
            CHECK(T > 1 || p.tm * p.tn * p.tk == 1, "one thread must not split (%zu tasks)", p.tm * p.tn * p.tk);
            CHECK(p.tm * p.tn * p.tk <= 8 * T, "T=%zu: %zu tasks", T, p.tm * p.tn * p.tk);
            if (p.tk > 1) CHECK(2 * p.tm * p.tn <= T, "K split although M×N has %zu tiles for %zu threads", p.tm * p.tn, T);
            if (2.0 * m * n * k < kF32GemmMinParallelFlops) CHECK(p.tm * p.tn * p.tk == 1, "tiny op split");
          }
  }
}

TEST(f32_gemm_bit_identical_for_1_to_8_threads) {
  ThreadsGuard guard;
  // M/N splits only (K short or M×N large): every element is computed by one task in one K order.
  const size_t shapes[][3] = {{1, 4096, 300},  {5, 1000, 512}, {16, 777, 256}, {17, 300, 300},
                              {97, 129, 257},  {256, 256, 256}, {300, 1, 2048}, {1023, 65, 63}};
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    uint64_t seed = 11;
    for (auto& s : shapes) {
      Problem pr(v, s[0], s[1], s[2], seed % 2 == 0, int(seed % 3), seed);
      seed++;
      set_num_threads(1);
      const std::vector<float> one = pr.run(v);
      CHECK(pr.near_reference(one), "%s one thread", v.name);
      for (int t = 2; t <= 8; t++) {
        set_num_threads(t);
        const F32GemmPartition p = f32_gemm_partition(v, pr.m, pr.n, pr.k, size_t(t));
        const std::vector<float> c = pr.run(v);
        if (p.tk == 1)
          CHECK(same_bits(one, c), "%s threads=%d m=%zu n=%zu k=%zu differs from one thread", v.name, t, pr.m, pr.n, pr.k);
        else
          CHECK(pr.near_reference(c), "%s threads=%d (K split)", v.name, t);
      }
    }
  }
}

TEST(f32_gemm_k_split_matches_reference) {
  ThreadsGuard guard;
  const size_t shapes[][3] = {{1, 64, 20000}, {4, 40, 9000}, {16, 64, 4096}, {24, 31, 3000}, {8, 8, 40000}};
  for (const F32GemmVariant& v : f32_gemm_table) {
    if (!sttest::runnable(v)) continue;
    uint64_t seed = 5;
    int splits = 0;
    for (auto& s : shapes)
      for (int act = 0; act < 3; act++) {
        Problem pr(v, s[0], s[1], s[2], act != 0, act, seed++);
        for (int t : {2, 3, 5, 8}) {
          set_num_threads(t);
          const F32GemmPartition p = f32_gemm_partition(v, pr.m, pr.n, pr.k, size_t(t));
          splits += p.tk > 1;
          CHECK(pr.near_reference(pr.run(v)), "%s threads=%d act=%d tk=%zu", v.name, t, act, p.tk);
        }
      }
    CHECK(splits >= 15, "%s: only %d of 60 runs split K", v.name, splits);  // the path must really be exercised
  }
}

TEST(f32_gemm_concurrent_callers_match_single_thread) {
  ThreadsGuard guard;
  const F32GemmVariant& v = f32_gemm_table.select();
  std::vector<Problem> probs;
  for (int i = 0; i < 12; i++)
    probs.emplace_back(v, size_t(1 + (i * 37) % 200), size_t(1 + (i * 91) % 300), size_t(1 + (i * 53) % 700), i % 2 == 0,
                       i % 3, 100 + i);
  set_num_threads(1);
  std::vector<std::vector<float>> want;
  for (auto& p : probs) want.push_back(p.run(v));
  set_num_threads(4);
  std::atomic<int> bad{0};
  std::vector<std::thread> th;
  for (int c = 0; c < 4; c++)
    th.emplace_back([&, c] {
      for (int r = 0; r < 20; r++) {
        const size_t i = size_t(c * 5 + r) % probs.size();
        const auto got = probs[i].run(v);
        const F32GemmPartition p = f32_gemm_partition(v, probs[i].m, probs[i].n, probs[i].k, 4);
        if (p.tk == 1 ? !same_bits(got, want[i]) : !probs[i].near_reference(got)) bad.fetch_add(1);
      }
    });
  for (auto& t : th) t.join();
  CHECK(bad.load() == 0, "%d concurrent results differ", bad.load());
}

TEST(f32_eltwise_drivers_bit_identical_for_1_to_8_threads) {
  ThreadsGuard guard;
  const F32EltwiseVariant& v = f32_eltwise_table.select();
  const size_t n = 3 * kEltwiseMinChunk + 1234;  // several chunks and a ragged tail
  const size_t cols = 777, rows = (kRowwiseMinChunkElems * 6) / cols + 3;
  sttest::Rng rng(9);
  std::vector<float> a(std::max(n, rows * cols)), b(a.size()), row(cols), gam(cols), bet(cols);
  for (auto& x : a) x = 4 * rng.uniform();
  for (auto& x : b) x = rng.uniform();
  for (auto& x : row) x = rng.uniform();
  for (auto& x : gam) x = rng.uniform();
  for (auto& x : bet) x = rng.uniform();
  auto run_all = [&]() {
    std::vector<std::vector<float>> outs;
    auto buf = [&](size_t len) { return std::vector<float>(len, -1.0f); };
    for (int op = 0; op < 3; op++) {
      auto o = buf(n);
      f32_binary_run(v, op, n, a.data(), b.data(), o.data());
      outs.push_back(o);
      auto r = buf(rows * cols);
      f32_binary_row_run(v, op, rows, cols, a.data(), row.data(), r.data());
      outs.push_back(r);
    }
    for (int act = 0; act < 3; act++) {
      auto o = buf(n);
      f32_activation_run(v, act, n, a.data(), o.data());
      outs.push_back(o);
    }
    for (bool lg : {false, true}) {
      auto o = buf(rows * cols);
      f32_softmax_run(v, lg, rows, cols, a.data(), o.data());
      outs.push_back(o);
    }
    auto o = buf(rows * cols);
    f32_layernorm_run(v, rows, cols, a.data(), gam.data(), bet.data(), 1e-5f, o.data());
    outs.push_back(o);
    return outs;
  };
  set_num_threads(1);
  const auto one = run_all();
  // The single-thread results against the plain reference (so identity across threads is identity to truth).
  for (size_t i = 0; i < n; i++) CHECK(one[0][i] == a[i] + b[i], "add[%zu]", i);
  for (size_t i = 0; i < rows * cols; i++) CHECK(one[5][i] == a[i] * row[i % cols], "mulRow[%zu]", i);
  for (int t = 2; t <= 8; t++) {
    set_num_threads(t);
    const auto outs = run_all();
    for (size_t i = 0; i < outs.size(); i++) CHECK(same_bits(outs[i], one[i]), "threads=%d output %zu differs", t, i);
  }
}
