// Every compiled f32 conv variant this CPU can run (indirect microkernel + epilogue, through the driver), against the plain
// direct/transposed reference: kernels 1/3/5/7, strides, dilations, pads, groups, channel counts around the tiles,
// every epilogue with and without a residual, NHWC and NCHW, inputs flush against their buffer end (ASan); and the
// int8 convolution on every runnable int8 GEMM variant.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/f32-conv/f32-conv.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "runtime/conv/conv_driver.h"
#include "runtime/conv/conv_weights.h"
#include "runtime/f32/pack.h"
#include "runtime/int8/conv.h"
#include "runtime/int8/packed_weights.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Every distinct conv variant: the full-width table, then the narrow-panel ones it does not hold.
struct AllConvVariants {
  std::vector<const F32ConvVariant*> list;
  AllConvVariants() {
    for (const F32ConvVariant& v : f32_conv_table) list.push_back(&v);
    for (const F32ConvVariant& v : f32_conv_narrow_table)
      if (std::find(list.begin(), list.end(), &v) == list.end()) list.push_back(&v);
  }
  size_t size() const { return list.size(); }
  const F32ConvVariant& operator[](size_t i) const { return *list[i]; }
};
// The variants of AllConvVariants this CPU runs, with their index there (the tests' seeds); the others are
// reported as skipped.
struct RunnableConv {
  size_t index;
  const F32ConvVariant& v;
};
std::vector<RunnableConv> runnable_conv_variants() {
  const AllConvVariants vs;
  std::vector<RunnableConv> out;
  for (size_t vi = 0; vi < vs.size(); vi++)
    if (sttest::runnable(vs[vi])) out.push_back({vi, vs[vi]});
  return out;
}
// Blocked f32 accumulation error is below k·eps·Σ|x·w|; the vector exp/erf add a few ulp.
constexpr double kConvRelTol = 128.0 * 1.1920929e-7;
constexpr double kConvAbsTol = 2e-6;

const size_t kChannels[] = {1, 3, 7, 15, 17, 33, 63, 65};

struct Case {
  ConvShape s;
  size_t pad_b, pad_r;
  F32ConvEpilogue ep;
  bool bias, residual, nchw;
};

bool make_case(sttest::Rng& r, size_t i, bool transposed, Case* out) {
  ConvShape s{};
  const size_t ks[] = {1, 3, 5, 7};
  s.kh = ks[i % 4];
  s.kw = (r.next() % 5 == 0) ? 1 + 2 * (r.next() % 2) : s.kh;
  s.sh = 1 + (i / 4) % 2;
  s.sw = (r.next() % 5 == 0) ? 3 - s.sh : s.sh;
  s.dh = s.dw = 1 + (i / 8) % 2;
  const size_t c0 = kChannels[i % 8];
  s.groups = 1;
  s.c = c0;
  s.m = kChannels[r.next() % 8];
  if (i % 3 == 1) {
    s.groups = c0;
    s.m = c0 * (r.next() % 3 == 0 ? 2 : 1);
  } else if (i % 3 == 2) {
    s.groups = 2 + r.next() % 2;
    s.c = ((c0 + s.groups - 1) / s.groups) * s.groups;
    s.m = ((kChannels[r.next() % 8] + s.groups - 1) / s.groups) * s.groups;
  }
  s.n = 1 + 2 * (r.next() % 2);
  const size_t ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
  s.h = transposed ? 2 + r.next() % 5 : std::max<size_t>(1 + r.next() % 11, 1);
  s.w = transposed ? 2 + r.next() % 5 : std::max<size_t>(1 + r.next() % 11, 1);
  s.pad_t = r.next() % 4;
  s.pad_l = r.next() % 4;
  const size_t pad_b = r.next() % 4, pad_r = r.next() % 4;
  s.transposed = transposed;
  if (!transposed) {
    if (ekh > s.h + s.pad_t + pad_b || ekw > s.w + s.pad_l + pad_r) return false;
    s.oh = (s.h + s.pad_t + pad_b - ekh) / s.sh + 1;
    s.ow = (s.w + s.pad_l + pad_r - ekw) / s.sw + 1;
  } else {
    const size_t fh = s.sh * (s.h - 1) + ekh, fw = s.sw * (s.w - 1) + ekw;
    if (fh <= s.pad_t + pad_b || fw <= s.pad_l + pad_r) return false;
    s.oh = fh - s.pad_t - pad_b;
    s.ow = fw - s.pad_l - pad_r;
  }
  if (double(s.pixels()) * double(s.kdim()) * double(s.mg()) * double(s.groups) > 3e6) return false;
  out->s = s;
  out->pad_b = pad_b;
  out->pad_r = pad_r;
  out->ep.act = int(i % kConvActCount);
  out->ep.p0 = out->ep.act == kConvActClip ? -0.5f : out->ep.act == kConvActLeakyRelu ? 0.1f : 0.2f;
  out->ep.p1 = out->ep.act == kConvActClip ? 0.75f : 0.5f;
  out->bias = r.next() % 3 != 0;
  out->residual = r.next() % 3 == 0;
  out->nchw = r.next() % 2 == 0;
  return true;
}

// NHWC [n, h, w, c] <-> NCHW [n, c, h, w] for the NCHW cases.
std::vector<float> to_nchw(const float* t, size_t n, size_t hw, size_t c) {
  std::vector<float> o(n * hw * c);
  for (size_t b = 0; b < n; b++)
    for (size_t p = 0; p < hw; p++)
      for (size_t ci = 0; ci < c; ci++) o[(b * c + ci) * hw + p] = t[(b * hw + p) * c + ci];
  return o;
}

// One case (index i, for the message) on variant v against the reference; random data from r.
void check_case(const F32ConvVariant& v, bool transposed, size_t i, const Case& cs, sttest::Rng& r) {
  const ConvShape& s = cs.s;
  const size_t xn = s.n * s.h * s.w * s.c, yn = s.pixels() * s.m, kd = s.kdim(), mg = s.mg();
  sttest::Flush<float> x(xn), w(s.groups * kd * mg), bias(s.m), res(yn), y(yn), ref(yn);
  for (size_t k = 0; k < xn; k++) x[k] = r.uniform();
  for (size_t k = 0; k < w.n; k++) w[k] = r.uniform();
  for (size_t k = 0; k < s.m; k++) bias[k] = r.uniform();
  for (size_t k = 0; k < yn; k++) res[k] = r.uniform();
  for (size_t k = 0; k < yn; k++) y[k] = NAN;  // every output must be written
  // Canonical weights [g][kd][mg] are HWIO-like per group: pack them through the OIHW path to test the index map.
  std::vector<float> oihw(w.n);
  const int layout = transposed ? kConvIOHW : kConvOIHW;
  for (size_t g = 0; g < s.groups; g++)
    for (size_t ky = 0; ky < s.kh; ky++)
      for (size_t kx = 0; kx < s.kw; kx++)
        for (size_t ci = 0; ci < s.cg(); ci++)
          for (size_t mo = 0; mo < mg; mo++)
            oihw[conv_weight_index(layout, s.c, s.m, s.kh, s.kw, s.groups, g, ky, kx, ci, mo)] =
                w[g * kd * mg + ((ky * s.kw + kx) * s.cg() + ci) * mg + mo];
  PackedF32ConvWeights pw(oihw.data(), layout, s.c, s.m, s.kh, s.kw, s.groups, nullptr, v.nr);
  f32_conv2d_reference(s, x.data(), w.data(), cs.bias ? bias.data() : nullptr, cs.residual ? res.data() : nullptr, cs.ep,
                       ref.data());
  F32ConvArgs a{s, x.data(), pw.panels(v.nr), y.data(), cs.bias ? bias.data() : nullptr,
                cs.residual ? res.data() : nullptr, cs.ep};
  std::vector<float> got(yn);
  if (!cs.nchw) {
    f32_conv_run(v, a);
    for (size_t k = 0; k < yn; k++) got[k] = y[k];
  } else {
    std::vector<float> xc = to_nchw(x.data(), s.n, s.h * s.w, s.c);
    std::vector<float> rc = to_nchw(res.data(), s.n, s.oh * s.ow, s.m);
    std::vector<float> yc(yn, NAN);
    a.x = xc.data();
    a.residual = cs.residual ? rc.data() : nullptr;
    a.y = yc.data();
    f32_conv_run_nchw(v, a);
    std::vector<float> want = to_nchw(ref.data(), s.n, s.oh * s.ow, s.m);
    for (size_t k = 0; k < yn; k++) {
      got[k] = yc[k];
      ref[k] = want[k];
    }
  }
  // Magnitude bound for the tolerance: Σ|x|·max|w| over the taps is crude; use k·max|x·w| + |bias| + |res| (≤ 3 + kd).
  const double mag = double(kd) + 3.0;
  for (size_t k = 0; k < yn; k++) {
    const float want = ref[k], g = got[k];
    const bool ok = std::isnan(want) ? std::isnan(g) : std::fabs(double(g) - double(want)) <= kConvAbsTol + kConvRelTol * mag;
    if (!ok) {
      CHECK(ok, "%s %s case %zu: n%zu c%zu h%zu w%zu m%zu k%zux%zu s%zu,%zu d%zu g%zu act%d res%d nchw%d: [%zu] = %g, want %g\n",
            v.name, transposed ? "transposed" : "direct", i, s.n, s.c, s.h, s.w, s.m, s.kh, s.kw, s.sh, s.sw,
            s.dh, s.groups, cs.ep.act, int(cs.residual), int(cs.nchw), k, double(g), double(want));
      break;
    }
  }
}

void run_cases(const F32ConvVariant& v, bool transposed, uint64_t seed) {
  sttest::Rng r(seed);
  int done = 0;
  for (size_t i = 0; done < 40 && i < 400; i++) {
    Case cs;
    if (!make_case(r, i, transposed, &cs)) continue;
    done++;
    check_case(v, transposed, i, cs, r);
  }
}
}  // namespace

TEST(f32_conv_epilogue_variants_match_reference) {
  for (const RunnableConv& rc : runnable_conv_variants()) {
    const F32ConvVariant& e = rc.v;
    sttest::Rng r(rc.index + 7);
    for (int act = 0; act < kConvActCount; act++)
      for (size_t m : {1, 3, 8, 14, 17}) for (size_t n : {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 65}) for (size_t gap : {0, 3}) {
        // gap 0: contiguous rows (the flat path); gap 3: strided rows (whole vectors in place, tails gathered).
        F32ConvEpilogue ep;
        ep.act = act;
        ep.p0 = act == kConvActClip ? -0.5f : 0.2f;
        ep.p1 = act == kConvActClip ? 0.75f : 0.5f;
        const size_t ld = n + gap;
        sttest::Flush<float> c(m * ld), ref(m * ld), res(m * ld);
        for (size_t k = 0; k < m * ld; k++) {
          c[k] = ref[k] = r.uniform() * 8;
          res[k] = r.uniform();
        }
        if (n > 3) {
          c[1] = ref[1] = NAN;
          c[2] = ref[2] = INFINITY;
          c[3] = ref[3] = -INFINITY;
        }
        const bool with_res = (n + m + gap / 3) % 2 == 0;
        e.epilogue(m, n, c.data(), ld, with_res ? res.data() : nullptr, ld, ep);
        f32_conv_reference.epilogue(m, n, ref.data(), ld, with_res ? res.data() : nullptr, ld, ep);
        for (size_t i = 0; i < m; i++)
          for (size_t j = 0; j < ld; j++) {
            const float g = c[i * ld + j], want = ref[i * ld + j];
            bool ok;
            if (std::isnan(want)) ok = std::isnan(g);
            else if (std::isinf(want)) ok = g == want;
            else ok = std::fabs(g - want) <= 2e-6f + 4e-6f * std::fabs(want);
            // hard-swish(±Inf) is ±Inf·1 / -Inf·0 = NaN in both; the stride gap (j >= n) must stay untouched.
            CHECK(ok, "%s act %d m%zu n%zu [%zu,%zu]: %g want %g\n", e.name, act, m, n, i, j, double(g), double(want));
            if (!ok) return;
          }
      }
  }
}

TEST(f32_conv_direct_and_transposed_match_reference_on_every_variant) {
  for (const RunnableConv& rc : runnable_conv_variants()) {
    run_cases(rc.v, false, 11 + rc.index);
    run_cases(rc.v, true, 23 + rc.index);
  }
  // The plain reference igemm through the same driver (mr 4, nr 8).
  run_cases(f32_conv_reference, false, 5);
}

TEST(f32_conv_few_channel_row_taps_match_reference) {
  // 1-5 input channels, one group (the driver's row-tap path for c <= 4, pointer taps above): kernel rows wider
  // than the image, asymmetric pads, both strides, vertical dilation, outputs that are mostly border pixels.
  struct K { size_t kh, kw, sh, sw, dh; };
  const K ks[] = {{3, 3, 2, 2, 1}, {3, 3, 1, 1, 1}, {3, 5, 1, 2, 2}, {7, 7, 2, 2, 1}, {1, 3, 1, 1, 1}, {5, 2, 2, 1, 1}};
  for (const RunnableConv& rc : runnable_conv_variants()) {
    sttest::Rng r(41 + rc.index);
    size_t i = 0;
    for (const K& k : ks)
      for (size_t c = 1; c <= 5; c++)
        for (size_t hw : {1, 4, 9, 17}) {
          Case cs;
          ConvShape& s = cs.s;
          s = ConvShape{};
          s.n = 1 + i % 2, s.h = hw, s.w = hw + 3 * (i % 3), s.c = c, s.m = (i % 4 == 0) ? 20 : 3 + 2 * (i % 4);
          s.kh = k.kh, s.kw = k.kw, s.sh = k.sh, s.sw = k.sw, s.dh = k.dh, s.dw = 1, s.groups = 1;
          s.pad_t = i % 3, s.pad_l = (i + 1) % 3, cs.pad_b = (i + 2) % 3, cs.pad_r = i % 2;
          const size_t ekh = (s.kh - 1) * s.dh + 1;
          i++;
          if (ekh > s.h + s.pad_t + cs.pad_b || s.kw > s.w + s.pad_l + cs.pad_r) continue;
          s.oh = (s.h + s.pad_t + cs.pad_b - ekh) / s.sh + 1;
          s.ow = (s.w + s.pad_l + cs.pad_r - s.kw) / s.sw + 1;
          cs.ep.act = int(i % kConvActCount);
          cs.ep.p0 = cs.ep.act == kConvActClip ? -0.5f : 0.2f;
          cs.ep.p1 = cs.ep.act == kConvActClip ? 0.75f : 0.5f;
          cs.bias = i % 2 == 0, cs.residual = i % 3 == 0, cs.nchw = i % 4 == 3;
          check_case(rc.v, false, i, cs, r);
        }
  }
}

TEST(f32_conv_igemm_tile_edges_with_padding_pointers) {
  // Every row count 1..MR+1, n around NR, taps × cg across the K block, zero-vector pointers mixed in, accumulate and
  // epilogue flags: each variant against the reference igemm on the same indirection buffer.
  for (const RunnableConv& rc : runnable_conv_variants()) {
    const F32ConvVariant& v = rc.v;
    sttest::Rng r(rc.index + 31);
    for (size_t m = 1; m <= v.mr; m++)
      for (size_t n : {size_t(1), v.nr - 1, v.nr})
        for (size_t taps : {1, 3, 9})
          for (size_t cg : {1, 5, 17}) {
            std::vector<float> x(v.mr * taps * cg), zero(cg, 0.0f), bp(taps * cg * v.nr), rb(taps * cg * 8), bias(v.nr);
            for (float& f : x) f = r.uniform();
            for (float& f : bias) f = r.uniform();
            for (size_t k = 0; k < taps * cg; k++)
              for (size_t j = 0; j < v.nr; j++) bp[k * v.nr + j] = j < n ? r.uniform() : 0.0f;
            std::vector<const float*> ptrs(taps * v.mr), rptrs(taps * 4);
            for (size_t t = 0; t < taps; t++)
              for (size_t i = 0; i < v.mr; i++) ptrs[t * v.mr + i] = (r.next() % 4 == 0) ? zero.data() : x.data() + (i * taps + t) * cg;
            const unsigned flags = (m + n) % 2 ? kGemmEpilogue : (kGemmAccumulate | kGemmEpilogue);
            const int act = int((m + taps) % 3);
            const size_t ldc = n + 2;
            std::vector<float> c(m * ldc), ref(m * ldc);
            for (size_t k = 0; k < c.size(); k++) c[k] = ref[k] = r.uniform();
            v.igemm(m, n, taps, cg, ptrs.data(), bp.data(), c.data(), ldc, flags, bias.data(), act);
            // The reference reads 4-row pointer groups and nr-8 panels: compare rows one at a time, 8 columns a pass.
            for (size_t i = 0; i < m; i++)
              for (size_t j0 = 0; j0 < n; j0 += 8) {
                const size_t nn = std::min<size_t>(8, n - j0);
                for (size_t t = 0; t < taps; t++) rptrs[t * 4] = ptrs[t * v.mr + i];
                for (size_t k = 0; k < taps * cg; k++)
                  for (size_t j = 0; j < 8; j++) rb[k * 8 + j] = j < nn ? bp[k * v.nr + j0 + j] : 0.0f;
                f32_conv_reference.igemm(1, nn, taps, cg, rptrs.data(), rb.data(), ref.data() + i * ldc + j0, ldc, flags,
                                         bias.data() + j0, act);
              }
            for (size_t k = 0; k < c.size(); k++) {
              const bool ok = std::fabs(double(c[k]) - double(ref[k])) <= 1e-5 + 1e-5 * std::fabs(double(ref[k]));
              CHECK(ok, "%s m%zu n%zu taps%zu cg%zu flags%u act%d: [%zu] %g want %g\n", v.name, m, n, taps, cg, flags, act, k,
                    double(c[k]), double(ref[k]));
              if (!ok) return;
            }
          }
  }
}

TEST(f32_conv_repacks_for_another_panel_width) {
  const size_t c = 5, m = 37, kh = 3, kw = 2, groups = 1;
  std::vector<float> w(m * c * kh * kw);
  sttest::Rng r(3);
  for (float& f : w) f = r.uniform();
  PackedF32ConvWeights p(w.data(), kConvHWIO, c, m, kh, kw, groups, nullptr, 8);
  for (size_t nr : {12, 16, 32}) {
    std::vector<float> want(groups * conv_group_panel_floats(kh * kw * c, m, nr));
    pack_conv_weights_f32(w.data(), kConvHWIO, c, m, kh, kw, groups, nullptr, nr, want.data());
    const float* got = p.panels(nr);
    bool same = true;
    for (size_t i = 0; i < want.size(); i++) same = same && got[i] == want[i];
    CHECK(same, "nr %zu re-layout differs from a direct packing\n", nr);
  }
}

// int8 convolution (runtime/int8/conv.h) on every runnable int8 GEMM variant: exact int32 sums against plain loops,
// u8 activations with a zero point (padding must contribute exactly zero), NHWC and NCHW, 1×1 and k×k shapes.
TEST(s8_conv_int32_matches_plain_loops) {
  size_t count;
  const auto& vs = s8_gemm_table;
  count = vs.size();
  for (size_t vi = 0; vi < count; vi++) {
    const S8GemmVariant& v = vs[vi];
    if (!sttest::runnable(v)) continue;
    sttest::Rng r(vi + 91);
    struct S { size_t n, c, h, w, m, k, st, pad; bool nchw; };
    for (const S& t : {S{1, 3, 9, 8, 8, 3, 2, 1, false}, S{2, 17, 6, 7, 33, 3, 1, 1, true}, S{1, 64, 5, 5, 65, 1, 1, 0, false},
                       S{3, 5, 8, 8, 7, 5, 1, 2, true}, S{1, 300, 4, 4, 16, 3, 1, 1, false}}) {
      ConvShape s{};
      s.n = t.n; s.c = t.c; s.h = t.h; s.w = t.w; s.m = t.m; s.kh = s.kw = t.k; s.sh = s.sw = t.st; s.dh = s.dw = 1;
      s.pad_t = s.pad_l = t.pad; s.groups = 1;
      s.oh = (t.h + 2 * t.pad - t.k) / t.st + 1;
      s.ow = (t.w + 2 * t.pad - t.k) / t.st + 1;
      const size_t K = s.kdim(), P = s.pixels();
      const int32_t zx = 37;
      sttest::Flush<uint8_t> x(s.n * s.h * s.w * s.c);
      std::vector<int8_t> wt(s.m * K);  // [m][ky][kx][c]
      for (size_t i = 0; i < x.n; i++) x[i] = uint8_t(r.next() & 0xff);
      for (int8_t& q : wt) q = int8_t(int(r.next() % 255) - 127);
      PackedS8Weights pw(wt.data(), false, K, true, K, s.m, nullptr, 0, nullptr, 0, v.nr, v.kstep, v.kgroup);
      // Plain loops over NHWC; `x` is NHWC or NCHW per case.
      auto xat = [&](size_t b, size_t y, size_t xx, size_t ci) {
        return t.nchw ? x[((b * s.c + ci) * s.h + y) * s.w + xx] : x[((b * s.h + y) * s.w + xx) * s.c + ci];
      };
      std::vector<int32_t> want(P * s.m), got(P * s.m, -1);
      for (size_t b = 0; b < s.n; b++)
        for (size_t oy = 0; oy < s.oh; oy++)
          for (size_t ox = 0; ox < s.ow; ox++)
            for (size_t o = 0; o < s.m; o++) {
              int64_t acc = 0;
              for (size_t ky = 0; ky < s.kh; ky++)
                for (size_t kx = 0; kx < s.kw; kx++) {
                  const long iy = long(oy * s.sh + ky) - long(t.pad), ix = long(ox * s.sw + kx) - long(t.pad);
                  if (iy < 0 || ix < 0 || iy >= long(s.h) || ix >= long(s.w)) continue;
                  for (size_t ci = 0; ci < s.c; ci++)
                    acc += int64_t(int(xat(b, size_t(iy), size_t(ix), ci)) - zx) * wt[o * K + (ky * s.kw + kx) * s.c + ci];
                }
              const size_t pix = (b * s.oh + oy) * s.ow + ox;
              want[t.nchw ? (b * s.m + o) * s.oh * s.ow + oy * s.ow + ox : pix * s.m + o] = int32_t(acc);
            }
      S8GemmArgs g{};
      g.a_unsigned = true;
      g.a_zero = &zx;
      g.a_zero_stride = 0;
      s8_gemm_bind_weights(v, pw, &g);
      g.out = kS8OutI32;
      g.c = got.data();
      if (t.nchw)
        s8_conv_run_nchw(v, s, x.data(), uint8_t(zx), g);
      else
        s8_conv_run(v, s, x.data(), uint8_t(zx), g);
      bool same = true;
      size_t at = 0;
      for (size_t i = 0; i < want.size() && same; i++)
        if (got[i] != want[i]) {
          same = false;
          at = i;
        }
      CHECK(same, "%s c%zu m%zu k%zu nchw%d: [%zu] %d want %d\n", v.name, s.c, s.m, s.kh, int(t.nchw), at, got[at], want[at]);
    }
  }
}

// Per-pixel activation parameters (a_zero / a_scale with stride 1) on pointwise int8 convs, every runnable int8
// GEMM variant: float32 output against plain loops, odd shapes (pixel counts that are not a multiple of any tile or of
// the epilogue's slice, so the per-row pointers must follow each slice), u8 and s8 activations, NHWC and NCHW, with
// and without the post epilogue (hard-swish affine: the GEMM writes f32 slices the epilogue kernel finishes).
TEST(s8_conv_per_pixel_params_match_plain_loops) {
  const auto& vs = s8_gemm_table;
  for (size_t vi = 0; vi < vs.size(); vi++) {
    const S8GemmVariant& v = vs[vi];
    if (!sttest::runnable(v)) continue;
    sttest::Rng r(vi + 313);
    struct S { size_t n, c, h, w, m; bool nchw, uns, post; };
    for (const S& t : {S{1, 5, 3, 7, 9, false, true, false}, S{2, 17, 5, 3, 33, true, true, true},
                       S{1, 3, 10, 15, 1100, false, false, true}, S{3, 70, 1, 1, 65, false, true, true},
                       S{1, 33, 7, 11, 16, true, false, false}}) {
      ConvShape s{};
      s.n = t.n; s.c = t.c; s.h = t.h; s.w = t.w; s.m = t.m; s.kh = s.kw = 1; s.sh = s.sw = 1; s.dh = s.dw = 1;
      s.groups = 1; s.oh = t.h; s.ow = t.w;
      const size_t K = s.c, P = s.pixels();
      sttest::Flush<uint8_t> x(P * s.c);
      std::vector<int8_t> wt(s.m * K);
      std::vector<float> ws(s.m), bias(s.m), xs(P);
      std::vector<int32_t> xz(P);
      for (size_t i = 0; i < x.n; i++) x[i] = uint8_t(r.next() & 0xff);
      for (int8_t& q : wt) q = int8_t(int(r.next() % 255) - 127);
      for (size_t o = 0; o < s.m; o++) {
        ws[o] = 0.001f + 0.0001f * float(r.next() % 50);
        bias[o] = 0.01f * (float(r.next() % 200) - 100.0f);
      }
      for (size_t p = 0; p < P; p++) {
        xs[p] = 0.002f + 0.001f * float(r.next() % 40);
        xz[p] = t.uns ? int32_t(r.next() % 256) : int32_t(r.next() % 256) - 128;
      }
      PackedS8Weights pw(wt.data(), false, K, true, K, s.m, nullptr, 0, ws.data(), s.m, v.nr, v.kstep, v.kgroup);
      const float a = 0.75f, b = -0.125f;
      std::vector<float> want(P * s.m), got(P * s.m, -1.0f);
      for (size_t p = 0; p < P; p++) {
        const size_t bn = p / (s.h * s.w), pix = p % (s.h * s.w);
        for (size_t o = 0; o < s.m; o++) {
          int64_t acc = 0;
          for (size_t ci = 0; ci < s.c; ci++) {
            const uint8_t byte = t.nchw ? x[(bn * s.c + ci) * s.h * s.w + pix] : x[p * s.c + ci];
            const int xv = t.uns ? int(byte) : int(int8_t(byte));
            acc += int64_t(xv - xz[p]) * wt[o * K + ci];
          }
          float y = float(double(acc) * double(xs[p]) * double(ws[o])) + bias[o];
          if (t.post) y = a * (y * std::min(1.0f, std::max(0.0f, y / 6.0f + 0.5f))) + b;
          want[t.nchw ? (bn * s.m + o) * s.h * s.w + pix : p * s.m + o] = y;
        }
      }
      S8GemmArgs g{};
      g.a_unsigned = t.uns;
      g.a_zero = xz.data();
      g.a_zero_stride = 1;
      g.a_scale = xs.data();
      g.a_scale_stride = 1;
      s8_gemm_bind_weights(v, pw, &g);
      g.out = kS8OutF32;
      g.bias = bias.data();
      g.c = got.data();
      S8ConvPost post;
      if (t.post) {
        post.act = kConvActHardSwishAffine;
        post.p0 = a;
        post.p1 = b;
      }
      if (t.nchw)
        s8_conv_run_nchw(v, s, x.data(), 0, g, post);
      else
        s8_conv_run(v, s, x.data(), 0, g, post);
      size_t bad = want.size();
      for (size_t i = 0; i < want.size() && bad == want.size(); i++)
        if (!(std::fabs(got[i] - want[i]) <= 1e-4f * (1.0f + std::fabs(want[i])))) bad = i;
      CHECK(bad == want.size(), "%s c%zu m%zu P%zu nchw%d u%d post%d: [%zu] %g want %g\n", v.name, s.c, s.m, P,
            int(t.nchw), int(t.uns), int(t.post), bad, bad < got.size() ? got[bad] : 0.0f,
            bad < want.size() ? want[bad] : 0.0f);
    }
  }
}
