// Every compiled int8 sparse variant (row and xt kernels) against the int reference on the same pruned, quantized
// weights and the same quantized activations; conversion from every input format; validation; dense fallback.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/quantize/quantize.h"
#include "kernels/s8-spmm/s8-spmm.h"
#include "runtime/int8/linear.h"
#include "runtime/sparse/s8.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {

// Integer sums are exact; only the f32 dequantization (sx·acc − sx·zx·rowsum, then ·scale + bias) rounds:
// a few ulps of the two large terms, far below 1e-5 of Σ|sx·sw·(xq − zx)·w| + |bias|.
constexpr double kS8SpmmRelTol = 1e-5;
constexpr double kS8SpmmAbsTol = 1e-5;

struct Pattern {
  SparseFormat fmt;
  size_t a, b;
  double density;
  const char* label;
};

// Dense int8 weights with a pattern, then the SparseInput (float values) in that format.
struct Built {
  std::vector<float> dense;  // int8 values as floats, [n×k]
  std::vector<int32_t> ptr, idx;
  std::vector<float> val;
  std::vector<uint8_t> nib;
  SparseInput in;
};

Built build(const Pattern& p, size_t n, size_t k, uint64_t seed) {
  sttest::Rng rng(seed);
  Built bt;
  bt.dense.assign(n * k, 0.0f);
  auto q = [&]() { return float(int(rng.next() % 255) - 127); };
  auto keep = [&]() { return double(rng.next()) / 4294967296.0 < p.density; };
  if (p.fmt == SparseFormat::kCsr) {
    for (auto& v : bt.dense)
      if (keep()) v = q();
  } else if (p.fmt == SparseFormat::kBsr) {
    for (size_t br = 0; br < (n + p.a - 1) / p.a; br++)
      for (size_t bc = 0; bc < (k + p.b - 1) / p.b; bc++)
        if (keep())
          for (size_t i = br * p.a; i < std::min(n, br * p.a + p.a); i++)
            for (size_t j = bc * p.b; j < std::min(k, bc * p.b + p.b); j++) bt.dense[i * k + j] = q();
  } else {
    for (size_t r = 0; r < n; r++)
      for (size_t g = 0; g < k / p.b; g++)
        for (size_t s = 0; s < p.a; s++) bt.dense[r * k + g * p.b + (rng.next() % p.b)] = q();
  }
  SparseSizes s;
  f32_dense_to_sparse_sizes(bt.dense.data(), n, k, p.fmt, p.a, p.b, &s);
  bt.ptr.resize(s.ptr_len + 1);
  bt.idx.resize(s.idx_len + 1);
  bt.val.resize(s.val_len + 1);
  bt.nib.resize(s.nib_len + 1);
  f32_dense_to_sparse_fill(bt.dense.data(), n, k, p.fmt, p.a, p.b, bt.ptr.data(), bt.idx.data(), false, bt.val.data(),
                           bt.nib.data());
  SparseInput& in = bt.in;
  in.fmt = p.fmt;
  in.n = n;
  in.k = k;
  in.ptr = bt.ptr.data();
  in.ptr_len = s.ptr_len;
  in.idx = bt.idx.data();
  in.idx_len = s.idx_len;
  in.val = bt.val.data();
  in.val_len = s.val_len;
  in.nib = bt.nib.data();
  in.nib_len = s.nib_len;
  if (p.fmt == SparseFormat::kBsr) {
    in.bh = p.a;
    in.bw = p.b;
  } else if (p.fmt == SparseFormat::kNm) {
    in.nm_n = p.a;
    in.nm_m = p.b;
  }
  return bt;
}

bool check(const S8SpmmVariant& v, SpmmPath path, const S8SparseWeights& sw, const std::vector<float>& dense,
           size_t m, bool use_bias, int act, uint64_t seed) {
  const S8SparseView& w = sw.view();
  const size_t n = w.n, k = w.k;
  sttest::Rng rng(seed);
  sttest::Flush<float> x(m * k), bias(n);
  for (size_t i = 0; i < m * k; i++) x[i] = rng.uniform() * 3.0f;
  for (size_t i = 0; i < n; i++) bias[i] = rng.uniform();
  std::vector<float> out(m * n, 12345.0f), ref(m * n);
  S8SpmmArgs a{&w, m, x.data(), k, out.data(), n, use_bias ? bias.data() : nullptr, act};
  const char* name = s8_spmm_run(v, a, path);
  // The reference sees the same quantized activations.
  std::vector<uint8_t> xq(m * k + 1);
  std::vector<float> sx(m + 1);
  std::vector<int32_t> zx(m + 1);
  std::vector<uint8_t> bad(m + 1);
  quantize_rows_dynamic(quantize_table.select(), m, k, x.data(), k, true, xq.data(), k, sx.data(), zx.data(), bad.data());
  s8_spmm_reference(w, m, xq.data(), k, sx.data(), zx.data(), ref.data(), n, use_bias ? bias.data() : nullptr, act);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double mag = use_bias ? std::fabs(bias[j]) : 0.0;
      for (size_t p = 0; p < k; p++)
        mag += std::fabs(double(sx[i]) * w.scale[j] * (double(xq[i * k + p]) - zx[i]) * dense[j * k + p]);
      const double got = out[i * n + j], want = ref[i * n + j];
      if (!(std::fabs(got - want) <= kS8SpmmRelTol * mag + kS8SpmmAbsTol)) {
        std::fprintf(stderr, "  %s m=%zu n=%zu k=%zu act=%d: out[%zu][%zu]=%.8g want %.8g\n", name, m, n, k, act, i, j,
                     got, want);
        return false;
      }
    }
  return true;
}

std::vector<float> row_scales(size_t n, uint64_t seed) {
  sttest::Rng rng(seed);
  std::vector<float> s(n);
  for (auto& v : s) v = 0.001f + 0.01f * (rng.uniform() + 1.0f);
  return s;
}

}  // namespace

TEST(s8_spmm_every_variant_format_path_vs_reference) {
  const Pattern pats[] = {
      {SparseFormat::kCsr, 0, 0, 0.1, "csr 10%"},   {SparseFormat::kCsr, 0, 0, 0.5, "csr 50%"},
      {SparseFormat::kCsr, 0, 0, 0.0, "csr empty"}, {SparseFormat::kCsr, 0, 0, 1.0, "csr full"},
      {SparseFormat::kBsr, 1, 16, 0.2, "bsr 1x16"}, {SparseFormat::kBsr, 4, 4, 0.3, "bsr 4x4"},
      {SparseFormat::kNm, 2, 4, 0, "nm 2:4"},
  };
  for (const S8SpmmVariant& v : s8_spmm_table) {
    if (!sttest::runnable(v)) continue;
    uint64_t seed = 3;
    for (const Pattern& p : pats)
      for (size_t n : {size_t(1), size_t(15), size_t(17), size_t(70)})
        for (size_t k : {size_t(4), size_t(16), size_t(37), size_t(132)}) {
          if (p.fmt == SparseFormat::kNm && k % p.b) continue;
          Built bt = build(p, n, k, seed);
          const std::vector<float> sc = row_scales(n, seed);
          std::string err;
          auto sw = S8SparseWeights::create(bt.in, sc.data(), n, &err);
          CHECK(sw, "%s: %s", p.label, err.c_str());
          for (size_t m : {size_t(1), size_t(2), size_t(3), size_t(4), size_t(5), size_t(16), size_t(17), size_t(65)})
            for (SpmmPath path : {SpmmPath::kRow, SpmmPath::kXt}) {
              CHECK(check(v, path, *sw, bt.dense, m, seed % 2 == 0, int(seed % 3), seed), "%s %s", v.name, p.label);
              seed++;
            }
        }
  }
}

TEST(s8_spmm_wide_k_uses_u32_groups_and_roundtrips) {
  const size_t n = 3, k = 4 * 65536 + 9;  // groups > 65536
  Built bt = build({SparseFormat::kCsr, 0, 0, 0.0005, "csr wide"}, n, k, 8);
  const std::vector<float> sc = row_scales(n, 8);
  std::string err;
  auto sw = S8SparseWeights::create(bt.in, sc.data(), n, &err);
  CHECK(sw, "%s", err.c_str());
  CHECK(!sw->view().idx16, "groups > 65536 must use u32 indices");
  std::vector<int8_t> back(n * k);
  sw->to_dense(back.data());
  for (size_t i = 0; i < n * k; i++) CHECK(float(back[i]) == bt.dense[i], "round trip at %zu", i);
  for (const S8SpmmVariant& v : s8_spmm_table) {
    if (!sttest::runnable(v)) continue;
    for (SpmmPath path : {SpmmPath::kRow, SpmmPath::kXt}) CHECK(check(v, path, *sw, bt.dense, 3, true, 1, 4), "%s", v.name);
  }
}

TEST(s8_spmm_rejects_bad_values_and_scales_and_falls_back_to_dense) {
  Built bt = build({SparseFormat::kCsr, 0, 0, 0.3, "csr"}, 8, 40, 2);
  std::vector<float> sc = row_scales(8, 2);
  std::string err;
  CHECK(!S8SparseWeights::create(bt.in, sc.data(), 7, &err) && err.find("scales has 7 values, needs one per row (8)") != std::string::npos, "%s", err.c_str());
  sc[3] = 0.0f;
  CHECK(!S8SparseWeights::create(bt.in, sc.data(), 8, &err) && err.find("scales[3] must be positive and finite") != std::string::npos, "%s", err.c_str());
  sc[3] = 0.01f;
  if (bt.in.val_len) {
    const float keep = bt.val[0];
    bt.val[0] = 0.5f;
    CHECK(!S8SparseWeights::create(bt.in, sc.data(), 8, &err) && err.find("is not an int8 value") != std::string::npos, "%s", err.c_str());
    bt.val[0] = 200.0f;
    CHECK(!S8SparseWeights::create(bt.in, sc.data(), 8, &err), "200 accepted as int8");
    bt.val[0] = keep;
  }
  auto sw = S8SparseWeights::create(bt.in, sc.data(), 8, &err);
  CHECK(sw, "%s", err.c_str());
  const size_t m = 6;
  sttest::Rng rng(5);
  std::vector<float> x(m * 40), o1(m * 8), o2(m * 8), bias(8);
  for (auto& f : x) f = rng.uniform();
  for (auto& f : bias) f = rng.uniform();
  const char* k1 = s8_sparse_linear({sw.get(), m, x.data(), o1.data(), bias.data(), kActRelu, SparseMode::kSparse});
  const char* k2 = s8_sparse_linear({sw.get(), m, x.data(), o2.data(), bias.data(), kActRelu, SparseMode::kDense});
  CHECK(std::strstr(k1, "s8_spmm_") == k1 && std::strstr(k2, "s8_gemm_") == k2, "names %s %s", k1, k2);
  CHECK(sw->has_dense(), "no dense copy after the dense path");
  for (size_t i = 0; i < m * 8; i++) CHECK(std::fabs(o1[i] - o2[i]) <= 1e-4f * (1.0f + std::fabs(o2[i])), "at %zu: %g vs %g", i, o1[i], o2[i]);
}
