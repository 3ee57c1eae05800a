// Every compiled sparse-weight variant (xt and row kernels, every format) against the dense reference on the
// same pruned weights, plus validation of user-supplied sparse arrays and the dense <-> sparse conversions.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-spmm/f32-spmm.h"
#include "runtime/sparse/weights.h"
#include "runtime/sparse/spmm_driver.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {

// |got - ref| <= kSpmmRelTol · Σ_k |x·w| + kSpmmAbsTol: f32 sums of <= 1100 terms in any order stay far inside
// 1e-5 per unit of magnitude, while a wrong index or a dropped term is off by O(|x·w|) ~ 1e-1.
constexpr double kSpmmRelTol = 1e-5;
constexpr double kSpmmAbsTol = 1e-5;

// Sparse arrays in buffers that end exactly where the data does (over-reads hit ASan's redzone).
struct TestSparse {
  sttest::Flush<uint32_t> ptr{0};
  sttest::Flush<uint16_t> i16{0};
  sttest::Flush<uint32_t> i32{0};
  sttest::Flush<float> val{0};
  sttest::Flush<uint8_t> nib{0};
  F32SparseView view;
};

// Builds `ts` from dense w in the given format. idx32 forces 32-bit indices.
bool make_sparse(const std::vector<float>& w, size_t n, size_t k, SparseFormat fmt, size_t a, size_t b, bool idx32,
                 TestSparse* ts) {
  SparseSizes s;
  std::string e = f32_dense_to_sparse_sizes(w.data(), n, k, fmt, a, b, &s);
  if (!e.empty()) {
    std::fprintf(stderr, "  sizes: %s\n", e.c_str());
    return false;
  }
  std::vector<int32_t> ptr(s.ptr_len ? s.ptr_len : 1), idx(s.idx_len ? s.idx_len : 1);
  std::vector<float> val(s.val_len ? s.val_len : 1);
  std::vector<uint8_t> nib(s.nib_len ? s.nib_len : 1);
  f32_dense_to_sparse_fill(w.data(), n, k, fmt, a, b, ptr.data(), idx.data(), false, val.data(), nib.data());
  ts->ptr = sttest::Flush<uint32_t>(s.ptr_len);
  ts->val = sttest::Flush<float>(s.val_len);
  ts->nib = sttest::Flush<uint8_t>(s.nib_len);
  for (size_t i = 0; i < s.ptr_len; i++) ts->ptr[i] = uint32_t(ptr[i]);
  for (size_t i = 0; i < s.val_len; i++) ts->val[i] = val[i];
  for (size_t i = 0; i < s.nib_len; i++) ts->nib[i] = nib[i];
  F32SparseView& v = ts->view;
  v = F32SparseView{};
  v.fmt = fmt;
  v.n = n;
  v.k = k;
  v.ptr = ts->ptr.data();
  v.val = ts->val.data();
  v.nnz_stored = s.val_len;
  if (fmt == SparseFormat::kBsr) {
    v.bh = a;
    v.bw = b;
  }
  if (fmt == SparseFormat::kNm) {
    v.nm_n = a;
    v.nm_m = b;
    v.nib = ts->nib.data();
  } else if (idx32) {
    ts->i32 = sttest::Flush<uint32_t>(s.idx_len);
    for (size_t i = 0; i < s.idx_len; i++) ts->i32[i] = uint32_t(idx[i]);
    v.idx = ts->i32.data();
    v.idx16 = false;
  } else {
    ts->i16 = sttest::Flush<uint16_t>(s.idx_len);
    for (size_t i = 0; i < s.idx_len; i++) ts->i16[i] = uint16_t(idx[i]);
    v.idx = ts->i16.data();
    v.idx16 = true;
  }
  return true;
}

// Random dense weights with a sparsity pattern: `density` of entries (or blocks) kept; rows listed in
// `empty_rows` are all zero, rows in `full_rows` fully dense (CSR only).
std::vector<float> pattern_weights(size_t n, size_t k, SparseFormat fmt, size_t a, size_t b, double density,
                                   sttest::Rng& rng, bool special_rows) {
  std::vector<float> w(n * k, 0.0f);
  auto keep = [&]() { return double(rng.next()) / 4294967296.0 < density; };
  if (fmt == SparseFormat::kCsr) {
    for (size_t i = 0; i < n * k; i++)
      if (keep()) w[i] = rng.uniform();
    if (special_rows && n >= 3) {
      for (size_t j = 0; j < k; j++) w[0 * k + j] = 0.0f;         // empty row
      for (size_t j = 0; j < k; j++) w[1 * k + j] = rng.uniform();  // fully dense row
      for (size_t j = 0; j < k; j++) w[2 * k + j] = 0.0f;         // exactly one nonzero, in the last column
      w[2 * k + k - 1] = 0.75f;
    }
  } else if (fmt == SparseFormat::kBsr) {
    for (size_t br = 0; br < (n + a - 1) / a; br++)
      for (size_t bc = 0; bc < (k + b - 1) / b; bc++)
        if (keep())
          for (size_t i = br * a; i < std::min(n, br * a + a); i++)
            for (size_t j = bc * b; j < std::min(k, bc * b + b); j++) w[i * k + j] = rng.uniform();
  } else {
    for (size_t r = 0; r < n; r++)
      for (size_t g = 0; g < k / b; g++) {
        // a of b positions, chosen by a partial shuffle; some slots left zero to test zero filling.
        size_t pos[16];
        for (size_t j = 0; j < b; j++) pos[j] = j;
        for (size_t j = 0; j < a; j++) std::swap(pos[j], pos[j + rng.next() % (b - j)]);
        for (size_t j = 0; j < a; j++)
          if (rng.next() % 8 != 0) w[r * k + g * b + pos[j]] = rng.uniform();
      }
  }
  return w;
}

bool check_case(const F32SpmmVariant& v, SpmmPath path, const TestSparse& ts, const std::vector<float>& wd, size_t m,
                bool use_bias, int act, size_t ldo_pad, uint64_t seed, const F32CsrChunks* chunks = nullptr) {
  const F32SparseView& w = ts.view;
  const size_t n = w.n, k = w.k;
  sttest::Rng rng(seed);
  sttest::Flush<float> x(m * k), bias(n);
  for (size_t i = 0; i < m * k; i++) x[i] = rng.uniform();
  for (size_t i = 0; i < n; i++) bias[i] = rng.uniform();
  const size_t ldo = n + ldo_pad;
  sttest::Flush<float> out(m * ldo), ref(m * ldo);
  for (size_t i = 0; i < m * ldo; i++) out[i] = ref[i] = 12345.0f;
  F32SpmmArgs args{&w, m, x.data(), k, out.data(), ldo, use_bias ? bias.data() : nullptr, act};
  args.chunks = chunks;
  const char* name = f32_spmm_run(v, args, path);
  f32_gemm_reference(m, n, k, x.data(), k, wd.data(), k, true, ref.data(), ldo, use_bias ? bias.data() : nullptr, act);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < ldo; j++) {
      const float got = out[i * ldo + j], want = ref[i * ldo + j];
      if (j >= n) {
        if (got != 12345.0f) {
          std::fprintf(stderr, "  %s wrote past n: m=%zu n=%zu k=%zu at (%zu,%zu)\n", name, m, n, k, i, j);
          return false;
        }
        continue;
      }
      double mag = 0;
      for (size_t p = 0; p < k; p++) mag += std::fabs(double(x[i * k + p]) * wd[j * k + p]);
      const double tol = kSpmmRelTol * mag + kSpmmAbsTol;
      if (!(std::fabs(double(got) - double(want)) <= tol)) {
        std::fprintf(stderr, "  %s m=%zu n=%zu k=%zu bias=%d act=%d: out[%zu][%zu]=%.8g want %.8g (tol %g)\n", name, m,
                     n, k, int(use_bias), act, i, j, got, want, tol);
        return false;
      }
    }
  return true;
}

struct FormatCase {
  SparseFormat fmt;
  size_t a, b;  // BSR bh×bw, N:M n:m
  bool idx32;
  const char* label;
};

const FormatCase kFormats[] = {
    {SparseFormat::kCsr, 0, 0, false, "csr/u16"}, {SparseFormat::kCsr, 0, 0, true, "csr/u32"},
    {SparseFormat::kBsr, 1, 16, false, "bsr1x16"}, {SparseFormat::kBsr, 1, 8, false, "bsr1x8"},
    {SparseFormat::kBsr, 4, 4, false, "bsr4x4"},   {SparseFormat::kBsr, 2, 3, true, "bsr2x3/u32"},
    {SparseFormat::kBsr, 8, 1, false, "bsr8x1"},   {SparseFormat::kBsr, 16, 16, false, "bsr16x16"},
    {SparseFormat::kNm, 2, 4, false, "nm2:4"},     {SparseFormat::kNm, 1, 4, false, "nm1:4"},
    {SparseFormat::kNm, 4, 8, false, "nm4:8"},     {SparseFormat::kNm, 3, 8, false, "nm3:8"},
    {SparseFormat::kNm, 1, 16, false, "nm1:16"},
};

template <class F>
void for_each_runnable(F&& f) {
  sttest::for_each_runnable(f32_spmm_table, f);
}

}  // namespace

TEST(spmm_every_variant_format_path_vs_reference) {
  for_each_runnable([&](const F32SpmmVariant& v) {
    uint64_t seed = 11;
    for (const FormatCase& fc : kFormats) {
      const size_t W = v.w;
      // N and K around the vector width (K a multiple of m for N:M).
      std::vector<size_t> ns = {1, W - (W > 1), W, W + 1, 3 * W + 1, 67};
      std::vector<size_t> ks = {1, 15, 16, 17, 33, 100};
      if (fc.fmt == SparseFormat::kNm) ks = {fc.b, 2 * fc.b, 3 * fc.b, 16 * fc.b + fc.b, 64};
      for (size_t n : ns)
        for (size_t k : ks) {
          if (fc.fmt == SparseFormat::kNm && k % fc.b != 0) continue;
          for (double density : {0.0, 0.1, 0.5, 1.0}) {
            sttest::Rng rng(seed);
            std::vector<float> wd = pattern_weights(n, k, fc.fmt, fc.a, fc.b, density, rng, density == 0.5);
            TestSparse ts;
            CHECK(make_sparse(wd, n, k, fc.fmt, fc.a, fc.b, fc.idx32, &ts), "%s", fc.label);
            for (size_t m : {size_t(1), size_t(2), size_t(3), size_t(4), size_t(5), size_t(8), size_t(9), W, W + 1, 4 * W + 3}) {
              for (SpmmPath p : {SpmmPath::kRow, SpmmPath::kXt, SpmmPath::kPanel}) {
                if (p == SpmmPath::kPanel && fc.fmt != SparseFormat::kNm) continue;
                const int act = int(seed % 3);
                CHECK(check_case(v, p, ts, wd, m, seed % 2 == 0, act, seed % 5 == 0 ? 3 : 0, seed),
                      "%s %s density %.2f", v.name, fc.label, density);
                seed++;
              }
            }
          }
        }
    }
  });
}

TEST(spmm_large_tiles_and_k) {
  // Several M tiles (M > 64 on AVX-512), K past 65536 for u32 columns, many rows across tasks.
  for_each_runnable([&](const F32SpmmVariant& v) {
    struct S {
      size_t m, n, k;
      FormatCase fc;
      double density;
    } cases[] = {
        {130, 200, 300, {SparseFormat::kCsr, 0, 0, false, "csr"}, 0.2},
        // K = 4100: the CSR xt tile is capped by bytes (32 floats of M at this K), so M = 75 runs tiles of 32, 32, 11.
        {75, 37, 4100, {SparseFormat::kCsr, 0, 0, false, "csr k=4100"}, 0.05},
        {70, 129, 256, {SparseFormat::kBsr, 4, 4, false, "bsr4x4"}, 0.3},
        {97, 130, 512, {SparseFormat::kBsr, 1, 16, false, "bsr1x16"}, 0.2},
        {66, 65, 128, {SparseFormat::kNm, 2, 4, false, "nm2:4"}, 0.5},
        {3, 5, 70000, {SparseFormat::kCsr, 0, 0, true, "csr k=70000"}, 0.001},
        {20, 3, 70001, {SparseFormat::kCsr, 0, 0, true, "csr k=70001"}, 0.001},
    };
    for (auto& c : cases) {
      sttest::Rng rng(c.m * 31 + c.k);
      std::vector<float> wd = pattern_weights(c.n, c.k, c.fc.fmt, c.fc.a, c.fc.b, c.density, rng, true);
      TestSparse ts;
      CHECK(make_sparse(wd, c.n, c.k, c.fc.fmt, c.fc.a, c.fc.b, c.fc.idx32, &ts), "%s", c.fc.label);
      if (c.k > 65536) CHECK(!ts.view.idx16, "k > 65536 must use u32 indices");
      for (SpmmPath p : {SpmmPath::kAuto, SpmmPath::kRow, SpmmPath::kXt, SpmmPath::kPanel})
        for (int act = 0; act < 3; act++) CHECK(check_case(v, p, ts, wd, c.m, true, act, 1, 5 + act), "%s %s", v.name, c.fc.label);
    }
  });
}

namespace {
// Whether two CSR views hold the same rows, columns and values (bit for bit).
bool same_csr(const F32SparseView& a, const F32SparseView& b) {
  if (a.n != b.n || a.k != b.k || a.nnz_stored != b.nnz_stored || a.idx16 != b.idx16) return false;
  if (!std::equal(a.ptr, a.ptr + a.n + 1, b.ptr)) return false;
  const size_t isz = a.idx16 ? 2 : 4;
  return a.nnz_stored == 0 || (std::memcmp(a.idx, b.idx, a.nnz_stored * isz) == 0 &&
                               std::memcmp(a.val, b.val, a.nnz_stored * sizeof(float)) == 0);
}
}  // namespace

TEST(spmm_csr_chunked_every_block_and_group) {
  // The chunked CSR kernel (F32CsrChunks) with K blocks and row groups around every edge: kb = 1 (every column its
  // own block), blocks that split rows unevenly, kb past K; groups of 1 row up to 256; segments shorter and longer
  // than a chunk; M across the tile width (several tiles, last one partial); u16 and u32 columns.
  for_each_runnable([&](const F32SpmmVariant& v) {
    if (!v.csr_chunks) return sttest::skip(v.name, "no chunked CSR kernel");
    uint64_t seed = 301;
    const size_t W = v.w, MT = v.max_nv * W;
    for (bool idx32 : {false, true})
      for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(70)})
        for (size_t k : {size_t(1), size_t(9), size_t(40), size_t(257)})
          for (double density : {0.0, 0.15, 0.6, 1.0}) {
            sttest::Rng rng(seed);
            std::vector<float> wd = pattern_weights(n, k, SparseFormat::kCsr, 0, 0, density, rng, density == 0.6);
            TestSparse ts;
            CHECK(make_sparse(wd, n, k, SparseFormat::kCsr, 0, 0, idx32, &ts), "csr");
            for (size_t kb : {size_t(1), size_t(3), size_t(16), size_t(255)})
              for (size_t rows : {size_t(1), size_t(5), size_t(32), size_t(256)})
                // Chunks and tails; the segment layout with every class (segments longer than seg_max are cut into
                // pieces) and with a short seg_max (2..10: many pieces per row, lists in other orders).
                for (size_t seg : {size_t(0), kCsrSegMax, 2 * (1 + seed % 5)}) {
                  auto ck = f32_csr_pack_chunks(ts.view, kb, rows, seg);
                  CHECK(same_csr(ts.view, f32_csr_from_chunks(ck->view, ts.view.nnz_stored, ts.view.idx16)->view),
                        "CSR rebuilt from chunks kb=%zu rows=%zu seg=%zu n=%zu k=%zu density %.2f", kb, rows, seg, n, k,
                        density);
                  std::vector<float> dense(n * k, -1.0f);
                  f32_csr_chunks_to_dense(ck->view, dense.data());
                  CHECK(dense == wd, "chunks to dense kb=%zu rows=%zu seg=%zu n=%zu k=%zu density %.2f", kb, rows, seg, n,
                        k, density);
                  // M = 1 and the narrow (ymm) width run the narrow chunked kernel where the variant has one.
                  for (size_t m : {size_t(1), std::max<size_t>(v.narrow_w, 3), W + 1, MT, MT + 3, 2 * MT + 1}) {
                    const int act = int(seed % 3);
                    CHECK(check_case(v, SpmmPath::kXt, ts, wd, m, seed % 2 == 0, act, seed % 5 == 0 ? 3 : 0, seed,
                                     &ck->view),
                          "%s chunked kb=%zu rows=%zu seg=%zu n=%zu k=%zu density %.2f", v.name, kb, rows, seg, n, k,
                          density);
                    seed++;
                  }
                }
            seed += 1000;
          }
  });
}

TEST(spmm_csr_chunk_padding_reads_no_activation) {
  // Padded chunk slots point at the block's zero xt row: NaN and Inf in x reach only the rows that store them. Row 0
  // stores one value (a tail chunk, three slots padded), then also five more in columns 10..14 (with kb = 8 a full
  // chunk of 5 with three padded slots, beside the tail of column 2 in block 0).
  for_each_runnable([&](const F32SpmmVariant& v) {
    if (!v.csr_chunks) return sttest::skip(v.name, "no chunked CSR kernel");
    const size_t n = 3, k = 24;
    for (size_t m : {size_t(3), v.max_nv * v.w + 1})  // 3: the narrow chunked kernel where there is one
    for (size_t extra : {size_t(0), size_t(5)}) {
      std::vector<float> wd(n * k, 0.0f);
      wd[0 * k + 2] = 1.0f;  // row 0 stores column 2 (and columns 10..14 when extra)
      for (size_t j = 0; j < extra; j++) wd[0 * k + 10 + j] = 1.0f;
      wd[1 * k + 5] = 2.0f;  // row 1 stores column 5 only
      wd[2 * k + 9] = 3.0f;
      const float r0 = 1.0f + float(extra);
      TestSparse ts;
      CHECK(make_sparse(wd, n, k, SparseFormat::kCsr, 0, 0, false, &ts), "csr");
      for (size_t kb : {size_t(8), size_t(24)})
      for (size_t seg : {size_t(0), kCsrSegMax}) {  // segments: row 0's one value pads a segment of 2, its 5 one of 6
        auto ck = f32_csr_pack_chunks(ts.view, kb, 2, seg);
        const size_t full = extra ? 1 : 0, tails = extra && kb == 24 ? 2 : 3, segs = extra && kb == 8 ? 4 : 3;
        if (seg)
          CHECK(ck->view.chunks() == 0 && ck->view.tails() == 0 && ck->view.segments() == segs &&
                    ck->view.slots() == (extra ? (kb == 8 ? 12u : 10u) : 6u),
                "%s extra %zu kb=%zu: %zu segments, %zu slots", v.name, extra, kb, ck->view.segments(), ck->view.slots());
        else
          CHECK(ck->view.chunks() == full && ck->view.tails() == tails,
                "%s extra %zu kb=%zu: %zu full chunks, %zu tails", v.name, extra, kb, ck->view.chunks(), ck->view.tails());
        std::vector<float> x(m * k, 1.0f), out(m * n, -1.0f);
        x[0 * k + 2] = NAN;       // only row 0 stores column 2
        x[m / 2 * k + 5] = INFINITY;  // only row 1 stores column 5
        for (size_t i = 0; i < m; i++) x[i * k + 0] = INFINITY, x[i * k + 23] = NAN;  // stored by no row
        F32SpmmArgs a{&ts.view, m, x.data(), k, out.data(), n, nullptr, 0};
        a.chunks = &ck->view;
        f32_spmm_run(v, a, SpmmPath::kXt);
        CHECK(std::isnan(out[0]) && out[1] == 2.0f && out[2] == 3.0f, "%s kb=%zu seg=%zu NaN in x", v.name, kb, seg);
        CHECK(std::isinf(out[m / 2 * n + 1]) && out[m / 2 * n + 0] == r0 && out[m / 2 * n + 2] == 3.0f,
              "%s kb=%zu seg=%zu Inf in x", v.name, kb, seg);
        CHECK(out[(m - 1) * n + 0] == r0 && out[(m - 1) * n + 1] == 2.0f && out[(m - 1) * n + 2] == 3.0f,
              "%s kb=%zu seg=%zu unstored NaN/Inf columns leaked", v.name, kb, seg);
      }
    }
  });
}

TEST(spmm_nm_panel_every_pattern_and_edge) {
  // The N:M panel kernels (and the xt/row kernels beside them) on every n:m the format allows (1 <= n <= m <= 16),
  // N and K off the vector width, M around the 8-row tile; then M = 1..17, 63, 65 and K past one K block for the
  // common patterns. A variant whose panel kernel does not take this m runs xt (f32_spmm_run falls back).
  for_each_runnable([&](const F32SpmmVariant& v) {
    uint64_t seed = 101;
    for (size_t mm = 1; mm <= 16; mm++)
      for (size_t nn = 1; nn <= mm; nn++)
        for (size_t n : {size_t(1), size_t(v.w + 1), size_t(37)})
          for (size_t groups : {size_t(1), size_t(9)}) {
            const size_t k = groups * mm;
            sttest::Rng rng(seed);
            std::vector<float> wd = pattern_weights(n, k, SparseFormat::kNm, nn, mm, 1.0, rng, false);
            TestSparse ts;
            CHECK(make_sparse(wd, n, k, SparseFormat::kNm, nn, mm, false, &ts), "nm%zu:%zu", nn, mm);
            for (size_t m : {size_t(3), size_t(8), size_t(11)}) {
              CHECK(check_case(v, SpmmPath::kPanel, ts, wd, m, seed % 2 == 0, int(seed % 3), seed % 3 == 0 ? 5 : 0, seed),
                    "%s nm%zu:%zu n=%zu k=%zu m=%zu", v.name, nn, mm, n, k, m);
              seed++;
            }
          }
    // K blocks: the driver blocks K so one panel's block of weights is ~16 KiB; 2100 groups pass that at any width.
    struct P {
      size_t nn, mm, n, groups;
    } pats[] = {{2, 4, 19, 2100}, {4, 8, 33, 13}, {3, 8, 17, 1100}, {1, 16, 5, 300}, {5, 7, 18, 23}, {1, 4, 65, 9}};
    for (const P& pt : pats) {
      const size_t k = pt.groups * pt.mm;
      sttest::Rng rng(seed);
      std::vector<float> wd = pattern_weights(pt.n, k, SparseFormat::kNm, pt.nn, pt.mm, 1.0, rng, false);
      TestSparse ts;
      CHECK(make_sparse(wd, pt.n, k, SparseFormat::kNm, pt.nn, pt.mm, false, &ts), "nm%zu:%zu", pt.nn, pt.mm);
      std::vector<size_t> ms = {63, 65};
      for (size_t m = 1; m <= 17; m++) ms.push_back(m);
      if (k > 4000) ms = {1, 3, 8, 9, 17};  // long K: fewer rows (ASan)
      for (size_t m : ms)
        for (SpmmPath p : {SpmmPath::kAuto, SpmmPath::kPanel}) {
          CHECK(check_case(v, p, ts, wd, m, seed % 2 == 1, int(seed % 3), seed % 4 == 0 ? 2 : 0, seed),
                "%s nm%zu:%zu n=%zu k=%zu m=%zu", v.name, pt.nn, pt.mm, pt.n, k, m);
          seed++;
        }
    }
    // NaN and Inf in x at stored slots reach the output; other rows' slots don't read them.
    const size_t m = 9, n = 3, k = 8;
    std::vector<float> wd(n * k, 0.0f);
    wd[0 * k + 1] = 1.0f;
    wd[0 * k + 2] = 2.0f;
    wd[1 * k + 6] = 1.0f;  // stored offsets: row 0 {1, 2} {4, 5}; row 1 {0, 1} {4, 6}; row 2 {0, 1} {4, 5}
    wd[2 * k + 4] = 3.0f;
    TestSparse ts;
    CHECK(make_sparse(wd, n, k, SparseFormat::kNm, 2, 4, false, &ts), "nm2:4");
    std::vector<float> x(m * k, 1.0f), out(m * n);
    x[8 * k + 2] = NAN;       // only row 0 stores offset 2
    x[7 * k + 6] = INFINITY;  // only row 1 stores offset 6
    F32SpmmArgs a{&ts.view, m, x.data(), k, out.data(), n, nullptr, 0};
    f32_spmm_run(v, a, SpmmPath::kPanel);
    CHECK(std::isnan(out[8 * n + 0]) && out[8 * n + 1] == 1.0f && out[8 * n + 2] == 3.0f, "%s NaN in x", v.name);
    CHECK(std::isinf(out[7 * n + 1]) && out[7 * n + 1] > 0 && out[7 * n + 0] == 3.0f && out[7 * n + 2] == 3.0f,
          "%s Inf in x", v.name);
  });
}

TEST(spmm_nan_inf_propagate) {
  for_each_runnable([&](const F32SpmmVariant& v) {
    const size_t m = 3, n = 4, k = 20;
    std::vector<float> wd(n * k, 0.0f);
    wd[0 * k + 3] = 1.0f;  // row 0 reads x[.][3]
    wd[1 * k + 5] = INFINITY;
    wd[2 * k + 7] = 2.0f;
    TestSparse ts;
    CHECK(make_sparse(wd, n, k, SparseFormat::kCsr, 0, 0, false, &ts), "csr");
    std::vector<float> x(m * k, 1.0f), out(m * n);
    x[0 * k + 3] = NAN;   // out[0][0] NaN
    x[1 * k + 5] = 0.0f;  // Inf · 0 = NaN at out[1][1]
    for (SpmmPath p : {SpmmPath::kRow, SpmmPath::kXt}) {
      F32SpmmArgs a{&ts.view, m, x.data(), k, out.data(), n, nullptr, 0};
      f32_spmm_run(v, a, p);
      CHECK(std::isnan(out[0]), "%s NaN in x", v.name);
      CHECK(std::isnan(out[1 * n + 1]), "%s inf*0", v.name);
      CHECK(std::isinf(out[0 * n + 1]) && out[1] > 0, "%s +inf", v.name);
      CHECK(out[2 * n + 3] == 0.0f && out[2 * n + 2] == 2.0f, "%s empty row / plain", v.name);
    }
  });
}

TEST(spmm_densify_roundtrip_all_formats) {
  for (const FormatCase& fc : kFormats) {
    const size_t n = 13, k = fc.fmt == SparseFormat::kNm ? 4 * fc.b : 37;
    sttest::Rng rng(7);
    std::vector<float> wd = pattern_weights(n, k, fc.fmt, fc.a, fc.b, 0.4, rng, false);
    TestSparse ts;
    CHECK(make_sparse(wd, n, k, fc.fmt, fc.a, fc.b, fc.idx32, &ts), "%s", fc.label);
    std::vector<float> back(n * k);
    f32_sparse_to_dense(ts.view, back.data());
    CHECK(std::memcmp(back.data(), wd.data(), n * k * sizeof(float)) == 0, "%s round trip", fc.label);
  }
}

namespace {
// A CSR input over the given arrays (which must outlive it).
SparseInput csr_input(size_t n, size_t k, const std::vector<int32_t>& ptr, const std::vector<int32_t>& col,
                      const std::vector<float>& val) {
  SparseInput in;
  in.fmt = SparseFormat::kCsr;
  in.n = n;
  in.k = k;
  in.ptr = ptr.data();
  in.ptr_len = ptr.size();
  in.idx = col.data();
  in.idx_len = col.size();
  in.val = val.data();
  in.val_len = val.size();
  return in;
}

std::string validate_csr(size_t n, size_t k, std::vector<int32_t> ptr, std::vector<int32_t> col, size_t nval) {
  std::vector<float> val(nval, 1.0f);
  const SparseInput in = csr_input(n, k, ptr, col, val);
  std::string err;
  auto w = F32SparseWeights::create(in, &err);
  if (err.empty() && !w) return "null without message";
  return err;
}
bool has(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }
}  // namespace

TEST(spmm_malformed_csr_rejected_with_messages) {
  CHECK(validate_csr(2, 4, {0, 1, 2}, {0, 3}, 2).empty(), "valid CSR rejected");
  std::string e = validate_csr(2, 4, {0, 1}, {0}, 1);
  CHECK(has(e, "rowPtr has 2 entries, expected 3"), "%s", e.c_str());
  e = validate_csr(2, 4, {1, 1, 2}, {0, 3}, 2);
  CHECK(has(e, "rowPtr[0] must be 0, got 1"), "%s", e.c_str());
  e = validate_csr(2, 4, {0, 2, 1}, {0, 3}, 1);
  CHECK(has(e, "rowPtr[2] (1) < rowPtr[1] (2)"), "%s", e.c_str());
  e = validate_csr(2, 4, {0, 1, 3}, {0, 3}, 2);
  CHECK(has(e, "colIdx has 2 entries, rowPtr[n] says 3"), "%s", e.c_str());
  e = validate_csr(2, 4, {0, 1, 2}, {0, 3}, 3);
  CHECK(has(e, "values has 3 entries"), "%s", e.c_str());
  e = validate_csr(2, 4, {0, 1, 2}, {0, 4}, 2);
  CHECK(has(e, "colIdx[1] (4) in row 1 is out of range [0, 4)"), "%s", e.c_str());
  e = validate_csr(2, 4, {0, 1, 2}, {-1, 2}, 2);
  CHECK(has(e, "colIdx[0] (-1) in row 0 is out of range"), "%s", e.c_str());
  e = validate_csr(1, 4, {0, 2}, {2, 2}, 2);
  CHECK(has(e, "not greater than the previous index (2)"), "%s", e.c_str());
  e = validate_csr(1, 4, {0, 2}, {3, 1}, 2);
  CHECK(has(e, "colIdx[1] (1) in row 0 is not greater"), "%s", e.c_str());
  e = validate_csr(0, 4, {0}, {}, 0);
  CHECK(e.empty(), "empty matrix rejected: %s", e.c_str());
}

TEST(spmm_malformed_bsr_and_nm_rejected) {
  std::vector<int32_t> ptr = {0, 1}, col = {1};
  std::vector<float> val(4 * 4, 1.0f);
  SparseInput in;
  in.fmt = SparseFormat::kBsr;
  in.n = 4;
  in.k = 6;  // 2 block columns of 4, the second one partial
  in.bh = 4;
  in.bw = 4;
  in.ptr = ptr.data();
  in.ptr_len = 2;
  in.idx = col.data();
  in.idx_len = 1;
  in.val = val.data();
  in.val_len = 16;
  std::string e = validate_sparse_input(in);
  CHECK(has(e, "lie outside the [4, 6] matrix and must be 0"), "%s", e.c_str());
  for (size_t i = 0; i < 4; i++) val[i * 4 + 2] = val[i * 4 + 3] = 0.0f;
  e = validate_sparse_input(in);
  CHECK(e.empty(), "valid edge block rejected: %s", e.c_str());
  col[0] = 2;
  e = validate_sparse_input(in);
  CHECK(has(e, "blockColIdx[0] (2) in row 0 is out of range [0, 2)"), "%s", e.c_str());
  in.val_len = 15;
  col[0] = 1;
  e = validate_sparse_input(in);
  CHECK(has(e, "values has 15 entries, expected 1 blocks"), "%s", e.c_str());

  SparseInput nm;
  nm.fmt = SparseFormat::kNm;
  nm.n = 1;
  nm.k = 8;
  nm.nm_n = 2;
  nm.nm_m = 4;
  std::vector<float> nv(4, 1.0f);
  std::vector<uint8_t> nib = {uint8_t(0 | (2 << 4)), uint8_t(1 | (3 << 4))};
  nm.val = nv.data();
  nm.val_len = 4;
  nm.nib = nib.data();
  nm.nib_len = 2;
  CHECK(validate_sparse_input(nm).empty(), "valid n:m rejected");
  nib[1] = uint8_t(3 | (1 << 4));
  e = validate_sparse_input(nm);
  CHECK(has(e, "offsets must be sorted and unique"), "%s", e.c_str());
  nib[1] = uint8_t(1 | (4 << 4));
  e = validate_sparse_input(nm);
  CHECK(has(e, "is >= m (4)"), "%s", e.c_str());
  nm.k = 6;
  e = validate_sparse_input(nm);
  CHECK(has(e, "K (6) must be a multiple of m (4)"), "%s", e.c_str());
  nm.k = 8;
  nm.nm_n = 5;
  e = validate_sparse_input(nm);
  CHECK(has(e, "must satisfy 1 <= n <= m <= 16"), "%s", e.c_str());
}

TEST(spmm_linear_entry_dense_fallback_and_names) {
  // f32_sparse_linear through owned weights: forced sparse and forced dense agree; names say which ran.
  const size_t n = 40, k = 48, m = 9;
  sttest::Rng rng(99);
  std::vector<float> wd = pattern_weights(n, k, SparseFormat::kCsr, 0, 0, 0.8, rng, true);
  SparseSizes s;
  CHECK(f32_dense_to_sparse_sizes(wd.data(), n, k, SparseFormat::kCsr, 0, 0, &s).empty(), "sizes");
  std::vector<int32_t> ptr(s.ptr_len), col(s.idx_len);
  std::vector<float> val(s.val_len);
  f32_dense_to_sparse_fill(wd.data(), n, k, SparseFormat::kCsr, 0, 0, ptr.data(), col.data(), false, val.data(), nullptr);
  SparseInput in = csr_input(n, k, ptr, col, val);
  std::string err;
  auto w = F32SparseWeights::create(in, &err);
  CHECK(w != nullptr, "%s", err.c_str());
  std::vector<float> x(m * k), bias(n), o1(m * n), o2(m * n), o3(m * n), ref(m * n);
  for (auto& f : x) f = rng.uniform();
  for (auto& f : bias) f = rng.uniform();
  const char* k1 = f32_sparse_linear({w.get(), m, x.data(), o1.data(), bias.data(), kActGelu, SparseMode::kSparse});
  CHECK(!w->has_dense(), "sparse mode made a dense copy");
  const char* k2 = f32_sparse_linear({w.get(), m, x.data(), o2.data(), bias.data(), kActGelu, SparseMode::kDense});
  CHECK(w->has_dense(), "dense mode made no dense copy");
  const char* k3 = f32_sparse_linear({w.get(), m, x.data(), o3.data(), bias.data(), kActGelu, SparseMode::kAuto});
  CHECK(std::strstr(k1, "f32_spmm_") == k1, "sparse kernel name %s", k1);
  CHECK(std::strstr(k2, "f32_gemm_") == k2, "dense kernel name %s", k2);
  // 80 % density is above every crossover: auto must pick dense.
  CHECK(std::strcmp(k3, k2) == 0, "auto at 80%% density ran %s", k3);
  f32_gemm_reference(m, n, k, x.data(), k, wd.data(), k, true, ref.data(), n, bias.data(), kActGelu);
  for (size_t i = 0; i < m * n; i++) {
    CHECK(std::fabs(o1[i] - ref[i]) < 1e-4 && std::fabs(o2[i] - ref[i]) < 1e-4, "at %zu: %g %g want %g", i, o1[i],
          o2[i], ref[i]);
  }
}

TEST(spmm_csr_weights_keep_one_form) {
  // Owned CSR weights that the chunked kernel runs are repacked by the first call (any M) and the CSR arrays
  // released; the pack serves every M; arrays() rebuilds the exact CSR for variants without a chunked kernel.
  // Density 0.1 takes AVX-512's 192-column blocks (K = 300: two blocks) and two zmm of M per tile.
  for (double density : {0.3, 0.1}) {
    const size_t n = 70, k = 300;
    sttest::Rng rng(density > 0.2 ? 77 : 78);
    std::vector<float> wd = pattern_weights(n, k, SparseFormat::kCsr, 0, 0, density, rng, false);
    TestSparse ts;
    CHECK(make_sparse(wd, n, k, SparseFormat::kCsr, 0, 0, false, &ts), "csr");
    const size_t nnz = ts.view.nnz_stored;
    const std::vector<int32_t> ptr(ts.view.ptr, ts.view.ptr + n + 1), col(ts.i16.data(), ts.i16.data() + nnz);
    const std::vector<float> val(ts.view.val, ts.view.val + nnz);
    std::string err;
    auto w = F32SparseWeights::create(csr_input(n, k, ptr, col, val), &err);
    CHECK(w != nullptr, "%s", err.c_str());
    const size_t csr_bytes = w->bytes();
    const F32SpmmVariant& v = f32_spmm_table.select();
    const bool chunked = v.csr_chunks && f32_spmm_csr_chunk_kb(v, w->shape(), 1 << 20);
    for (size_t m : {size_t(1), size_t(8), size_t(33), size_t(64)}) {
      std::vector<float> x(m * k), out(m * n), ref(m * n);
      for (auto& f : x) f = rng.uniform();
      const char* name = f32_sparse_linear({w.get(), m, x.data(), out.data(), nullptr, 0, SparseMode::kSparse});
      CHECK(std::strcmp(name, f32_sparse_kernel_for(*w, m, SparseMode::kSparse)) == 0, "m=%zu ran %s", m, name);
      CHECK(!chunked || std::strstr(name, "_csr_chunks_"), "m=%zu on %s ran %s", m, v.name, name);
      CHECK(w->has_chunks() == chunked, "m=%zu: chunk pack %d, expected %d", m, int(w->has_chunks()), int(chunked));
      CHECK(!chunked || w->bytes() < csr_bytes, "m=%zu: %zu bytes held, CSR alone %zu", m, w->bytes(), csr_bytes);
      f32_gemm_reference(m, n, k, x.data(), k, wd.data(), k, true, ref.data(), n, nullptr, 0);
      for (size_t i = 0; i < m * n; i++)
        CHECK(std::fabs(out[i] - ref[i]) <= 1e-4f * (1.0f + std::fabs(ref[i])), "m=%zu at %zu: %g want %g", m, i,
              out[i], ref[i]);
    }
    std::vector<float> dense(n * k);
    w->to_dense(dense.data());
    CHECK(dense == wd, "to_dense");
    CHECK(same_csr(ts.view, w->arrays()->view), "arrays() after the chunked calls");
  }
}
