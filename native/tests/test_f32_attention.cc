// The fused attention driver against its double-precision reference, for every runnable pair of f32 GEMM and
// eltwise variants: odd shapes around the tile and the scores row block (seq_k past 16384 / mr), separate 4-D
// Q/K/V and one merged QKV row buffer at column offsets, masks of every broadcast form, a scale, an output with a
// gap after each head row (sentinels must survive), no keys at all, and one and three threads.
#include <cmath>
#include <vector>

#include "runtime/core/parallel.h"
#include "runtime/f32/attention_driver.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {

constexpr float kSentinel = -777.0f;
// Two GEMMs in float32 (dk and seq_k terms) and a float softmax against double sums.
constexpr float kAbsTol = 2e-5f, kRelTol = 2e-4f;

struct Shape {
  size_t b, h, sq, sk, dk, dv;
};
const Shape kShapes[] = {{1, 1, 1, 1, 1, 1},   {2, 3, 5, 7, 3, 5},     {1, 2, 9, 17, 64, 64},
                         {2, 2, 33, 130, 13, 31}, {1, 1, 70, 257, 8, 40}, {1, 2, 4, 0, 8, 8},
                         {1, 2, 128, 128, 32, 32}, {1, 2, 40, 40, 15, 15},  // BERT's and rec's SVTR heads
                         // The 1/Σ row scale in the P·V tile (partial row tiles, dv past and below nr) and the
                         // base-2 exp's vector tails (seq_k 1, 7, 77, 129).
                         {1, 3, 77, 129, 33, 15}, {2, 2, 7, 1, 15, 33}, {1, 1, 129, 77, 15, 33},
                         // Odd seqs (129, 77, 1 query against 7 keys) with head widths that are whole panels of
                         // some variant's nr (24, 96, 48: the P·V tile without a partial panel).
                         {1, 2, 129, 129, 15, 24}, {2, 1, 1, 7, 33, 96}, {1, 2, 77, 77, 33, 48}};

// Mask forms: none, [b,1,1,sk] (padding), [sq,sk], [b,h,sq,1] (column broadcast), [1] (scalar).
enum MaskForm { kNone, kPad, kFull2d, kColumn, kScalar, kMaskForms };

void run_case(const F32GemmVariant& gv, const F32EltwiseVariant& ev, const Shape& s, bool merged, int mf,
              float scale, sttest::Rng& rng) {
  const size_t hd = s.h * s.dk, hv = s.h * s.dv;
  F32AttnOperand qo{}, ko{}, vo{};
  std::vector<float> qkv;  // merged: rows of [q | k | v], seq_q == seq_k only
  sttest::Flush<float> q(s.b * s.sq * hd), k(s.b * s.sk * hd), v(s.b * s.sk * hv);
  if (merged) {
    const size_t w = 2 * hd + hv + 1;  // one spare column
    qkv.resize(s.b * s.sq * w);
    for (float& x : qkv) x = rng.uniform();
    qo = F32AttnOperand{qkv.data(), s.sq * w, w, s.dk};
    ko = F32AttnOperand{qkv.data() + hd, s.sq * w, w, s.dk};
    vo = F32AttnOperand{qkv.data() + 2 * hd, s.sq * w, w, s.dv};
  } else {
    for (size_t i = 0; i < q.n; i++) q[i] = rng.uniform();
    for (size_t i = 0; i < k.n; i++) k[i] = rng.uniform();
    for (size_t i = 0; i < v.n; i++) v[i] = rng.uniform();
    qo = F32AttnOperand{q.data(), s.sq * hd, hd, s.dk};
    ko = F32AttnOperand{k.data(), s.sk * hd, hd, s.dk};
    vo = F32AttnOperand{v.data(), s.sk * hv, hv, s.dv};
  }
  const size_t orow = hv + 2;  // a gap of 2 after each row
  sttest::Flush<float> out(s.b * s.sq * orow);
  std::vector<float> want(s.b * s.sq * orow, kSentinel);
  for (size_t i = 0; i < out.n; i++) out[i] = kSentinel;
  F32AttentionArgs a = f32_attention_args({s.b, s.h, s.sq, s.sk, s.dk, s.dv}, qo, ko, vo, out.data(), s.sq * orow,
                                          orow, s.dv);
  std::vector<float> mask;
  size_t ms[4] = {0, 0, 0, 0};
  switch (mf) {
    case kPad: mask.resize(s.b * s.sk); ms[0] = s.sk; ms[3] = 1; break;
    case kFull2d: mask.resize(s.sq * s.sk); ms[2] = s.sk; ms[3] = 1; break;
    case kColumn: mask.resize(s.b * s.h * s.sq); ms[0] = s.h * s.sq; ms[1] = s.sq; ms[2] = 1; break;
    case kScalar: mask.resize(1); break;
    default: break;
  }
  // −10000 (masked keys) only where the mask varies along the keys: a row-constant −10000 would just shift the row,
  // and in float32 it rounds the scores to 1e-3 (a real, data-bound difference from the double reference).
  const bool per_key = mf == kPad || mf == kFull2d;
  for (size_t i = 0; i < mask.size(); i++) mask[i] = (per_key && i % 5 == 0) ? -10000.0f : rng.uniform();
  sttest::Flush<float> mflush(mask.size());
  for (size_t i = 0; i < mask.size(); i++) mflush[i] = mask[i];
  a.mask = mf == kNone ? nullptr : mflush.data();
  for (size_t i = 0; i < 4; i++) a.ms[i] = ms[i];
  a.scale = scale;
  f32_attention_run(gv, ev, a);
  F32AttentionArgs r = a;
  r.out = want.data();
  f32_attention_reference(r);
  size_t bad = 0, first = size_t(-1);
  for (size_t i = 0; i < want.size(); i++)
    if (!sttest::close_to(out[i], want[i], kAbsTol, kRelTol)) {
      bad++;
      if (first == size_t(-1)) first = i;
    }
  CHECK(bad == 0, "%s/%s b=%zu h=%zu sq=%zu sk=%zu dk=%zu dv=%zu merged=%d mask=%d scale=%g: %zu wrong, first at %zu (%g vs %g)",
        gv.name, ev.name, s.b, s.h, s.sq, s.sk, s.dk, s.dv, int(merged), mf, double(scale), bad, first,
        bad ? double(out[first]) : 0.0, bad ? double(want[first]) : 0.0);
}

}  // namespace

TEST(f32_attention_matches_reference) {
  const int saved = num_threads();
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    sttest::for_each_runnable(f32_gemm_table, 11, [&](const F32GemmVariant& gv, sttest::Rng& rng) {
      sttest::for_each_runnable(f32_eltwise_table, [&](const F32EltwiseVariant& ev) {
        for (const Shape& s : kShapes)
          for (int mf = 0; mf < kMaskForms; mf++) {
            run_case(gv, ev, s, false, mf, mf == kColumn ? 0.125f : 1.0f, rng);
            if (s.sq == s.sk) run_case(gv, ev, s, true, mf, 0.3f, rng);
          }
      });
    });
  }
  set_num_threads(saved);
}

TEST(f32_attention_masked_rows_and_large_values) {
  // A fully masked key set (every score −10000 apart from one) and large scores: softmax must not overflow.
  const F32GemmVariant& gv = f32_gemm_table.select();
  const F32EltwiseVariant& ev = f32_eltwise_table.select();
  const size_t sq = 3, sk = 5, d = 4;
  std::vector<float> q(sq * d, 30.0f), k(sk * d, 30.0f), v(sk * d), out(sq * d), want(sq * d);
  for (size_t i = 0; i < v.size(); i++) v[i] = float(i);
  std::vector<float> mask(sk, -10000.0f);
  mask[2] = 0.0f;
  F32AttentionArgs a = f32_attention_args({1, 1, sq, sk, d, d}, {q.data(), 0, d, d}, {k.data(), 0, d, d},
                                          {v.data(), 0, d, d}, out.data(), 0, d, d);
  a.mask = mask.data();
  a.ms[3] = 1;
  f32_attention_run(gv, ev, a);
  F32AttentionArgs r = a;
  r.out = want.data();
  f32_attention_reference(r);
  for (size_t i = 0; i < out.size(); i++)
    CHECK(sttest::close_to(out[i], want[i], kAbsTol, kRelTol) && out[i] == v[2 * d + i % d], "element %zu: %g vs %g",
          i, double(out[i]), double(want[i]));
}

TEST(f32_attention_nan_query_row_stays_alone) {
  // A NaN in one query row makes that context row NaN (its scores, max and sum are NaN) and no other.
  const int saved = num_threads();
  set_num_threads(1);
  sttest::for_each_runnable(f32_gemm_table, 13, [&](const F32GemmVariant& gv, sttest::Rng& rng) {
    sttest::for_each_runnable(f32_eltwise_table, [&](const F32EltwiseVariant& ev) {
      const size_t sq = 19, sk = 23, d = 9;
      std::vector<float> q(sq * d), k(sk * d), v(sk * d), out(sq * d), want(sq * d), mask(sk, 0.0f);
      for (float& x : q) x = rng.uniform();
      for (float& x : k) x = rng.uniform();
      for (float& x : v) x = rng.uniform();
      mask[3] = -10000.0f;
      q[11 * d + 4] = NAN;
      F32AttentionArgs a = f32_attention_args({1, 1, sq, sk, d, d}, {q.data(), 0, d, d}, {k.data(), 0, d, d},
                                              {v.data(), 0, d, d}, out.data(), 0, d, d);
      a.mask = mask.data();
      a.ms[3] = 1;
      a.scale = 0.5f;
      f32_attention_run(gv, ev, a);
      F32AttentionArgs r = a;
      r.out = want.data();
      f32_attention_reference(r);
      for (size_t i = 0; i < out.size(); i++)
        CHECK(i / d == 11 ? std::isnan(out[i]) : sttest::close_to(out[i], want[i], kAbsTol, kRelTol),
              "%s/%s element %zu: %g vs %g", gv.name, ev.name, i, double(out[i]), double(want[i]));
    });
  });
  set_num_threads(saved);
}
