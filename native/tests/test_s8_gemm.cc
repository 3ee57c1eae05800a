// Every compiled int8 GEMM variant this CPU can run, through the real packing and driver, against the scalar
// reference: int32 bit-exact; f32 and requantized outputs exact for none/relu/clip/leaky relu, within named tolerances
// for gelu and the conv activations computed through exp or a fused multiply-add (activation.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/f32-conv-common/activation.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/core/aligned.h"
#include "runtime/int8/gemm_driver.h"
#include "runtime/int8/gemv_driver.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/pack.h"
#include "runtime/int8/packed_weights.h"
#include "tests/harness.h"

using namespace simdtensor;

#if defined(__x86_64__) || defined(_M_X64)
namespace simdtensor {
// native/kernels/s8-gemm/amx_emulated.cc
ST_DECLARE_S8_GEMM(s8_gemm_32x32__amx_emulated)
void s8_gemm_amx_begin_emulated();
void s8_gemm_amx_end_emulated();
}  // namespace simdtensor
#endif

namespace {
// gelu: the vector erf (|abs err| <= 1.5e-7 plus f32 rounding in exp) against the double-precision reference.
constexpr double kS8GeluAbsTol = 2e-6;
constexpr double kS8GeluRelTol = 2e-6;
// A requantized output after gelu may round the other way when the f32 value sits within that tolerance of .5.
constexpr int kS8GeluRequantTol = 1;
// The same tolerances serve the conv activations that go through exp (sigmoid) or one fused multiply-add where the
// reference rounds a double (hard sigmoid, hard swish and its affine): float32 rounding, far below gelu's bound.
bool act_exact(int act) { return act == kConvActNone || act == kConvActRelu || act == kConvActClip || act == kConvActLeakyRelu; }
// Parameters per ConvActivation code for the sweeps (clip bounds around 0, a leaky slope, ONNX's hard sigmoid,
// a PP-LCNetV3-like affine after the hard swish).
ConvAct sweep_act(int code) {
  switch (code) {
    case kConvActClip: return ConvAct{code, -0.4f, 0.9f};
    case kConvActLeakyRelu: return ConvAct{code, 0.1f, 0.0f};
    case kConvActHardSigmoid: return ConvAct{code, 0.2f, 0.5f};
    case kConvActHardSwishAffine: return ConvAct{code, 0.6f, -0.1f};
    default: return ConvAct{code, 0.0f, 0.0f};
  }
}

struct Case {
  size_t m, n, k;
  bool a_unsigned, b_unsigned, trans_b;
  int za_mode;  // 0 none, 1 per tensor, 2 per row
  int zb_mode;  // 0 none, 1 per tensor, 2 per column
  int out;      // S8GemmOut
  bool bias;
  int act;
  size_t ldc_pad;
  int fill;  // 0 random, 1 all min, 2 all max, 3 alternating extremes
  uint64_t seed;
};

const char* out_name(int o) { return o == 0 ? "i32" : o == 1 ? "f32" : o == 2 ? "s8" : "u8"; }

// K block bound passed to the driver (S8GemmArgs::kc_max; 0 = its default), set by the K-blocking sweep.
size_t g_case_kc = 0;

// sv: run the small-M kernel sv over v's panels instead of v's tiles.
bool run_case(const S8GemmVariant& v, const Case& cs, const S8GemvVariant* sv = nullptr) {
  sttest::Rng rng(cs.seed);
  const size_t m = cs.m, n = cs.n, k = cs.k;
  auto byte = [&](bool uns, int fill, size_t idx) -> uint8_t {
    const uint8_t lo = uns ? 0 : 0x80, hi = uns ? 255 : 0x7f;
    if (fill == 1) return lo;
    if (fill == 2) return hi;
    if (fill == 3) return (idx % 3 == 0) ? lo : hi;
    return uint8_t(rng.next() >> 24);
  };
  sttest::Flush<uint8_t> a(m * k), b(k * n);
  for (size_t i = 0; i < m * k; i++) a[i] = byte(cs.a_unsigned, cs.fill, i);
  for (size_t i = 0; i < k * n; i++) b[i] = byte(cs.b_unsigned, cs.fill, i + 1);
  // Zero points at the ends of their ranges as well as inside.
  auto zp = [&](bool uns) -> int32_t {
    const uint32_t r = rng.next() % 4;
    if (r == 0) return uns ? 0 : -128;
    if (r == 1) return uns ? 255 : 127;
    return int32_t(rng.next() % 256) - (uns ? 0 : 128);
  };
  sttest::Flush<int32_t> za(m), zb(n);
  for (size_t i = 0; i < m; i++) za[i] = zp(cs.a_unsigned);
  for (size_t j = 0; j < n; j++) zb[j] = zp(cs.b_unsigned);
  sttest::Flush<float> sa(m), sb(n), bias(n);
  for (size_t i = 0; i < m; i++) sa[i] = 0.01f + 0.02f * std::fabs(rng.uniform());
  for (size_t j = 0; j < n; j++) sb[j] = (0.001f + 0.01f * std::fabs(rng.uniform())) / float(std::max<size_t>(1, k / 64));
  for (size_t j = 0; j < n; j++) bias[j] = 2.0f * rng.uniform();
  const float out_scale = 0.05f;
  const int32_t out_zero = cs.out == kS8OutS8 ? -7 : 131;

  const size_t ldb = cs.trans_b ? k : n, ldc = n + cs.ldc_pad;
  const size_t esize = (cs.out == kS8OutI32 || cs.out == kS8OutF32) ? 4 : 1;
  sttest::Flush<uint8_t> c(m * ldc * esize), ref(m * ldc * esize);
  std::memset(c.data(), 0x5a, m * ldc * esize);
  std::memset(ref.data(), 0x5a, m * ldc * esize);

  const size_t nzb = cs.zb_mode == 0 ? 0 : cs.zb_mode == 1 ? 1 : n;
  PackedS8Weights w(b.data(), cs.b_unsigned, ldb, cs.trans_b, k, n, zb.data(), nzb, sb.data(), n, v.nr, v.kstep, v.kgroup);
  // The same product for the kernel (g: A and the epilogue; B bound from the packed weights) and for the
  // reference (r: every operand as given).
  const int32_t* a_zero = cs.za_mode ? za.data() : nullptr;
  const size_t a_zero_stride = cs.za_mode == 2 ? 1 : 0;
  const float* bias_p = cs.bias ? bias.data() : nullptr;
  S8GemmArgs g = s8_gemm_args(v, w, m, n, k, a.data(), k, cs.a_unsigned);
  g.a_zero = a_zero;
  g.a_zero_stride = a_zero_stride;
  // A per-tensor zero point comes with a per-tensor scale (the ONNX dynamic-int8 form), which takes the driver's
  // per-column epilogue terms (colterm, sab); per-row zero points keep per-row scales.
  const size_t a_scale_stride = cs.za_mode == 2 ? 1 : 0;
  g.a_scale = sa.data();
  g.a_scale_stride = a_scale_stride;
  g.out = cs.out;
  g.c = c.data();
  g.ldc = ldc;
  g.bias = bias_p;
  g.act = cs.act;
  const ConvAct act = sweep_act(cs.act);
  g.act_a = act.a;
  g.act_b = act.b;
  g.out_scale = out_scale;
  g.out_zero = out_zero;
  g.kc_max = g_case_kc;
  if (sv) s8_gemv_gemm_run(*sv, v, g);
  else s8_gemm_run_tiles(v, g);

  S8RefArgs r{m, n, k, a.data(), k, cs.a_unsigned,                                        // A
                    b.data(), ldb, cs.b_unsigned, cs.trans_b,                                   // B
                    a_zero, a_zero_stride,                                                      // zero points: A's
                    cs.zb_mode ? zb.data() : nullptr, cs.zb_mode == 2 ? size_t(1) : 0,          // B's
                    sa.data(), a_scale_stride, sb.data(), 1,                                    // scales
                    bias_p, cs.act, cs.out, out_scale, out_zero,                                // epilogue
                    ref.data(), ldc};
  r.act_a = act.a;
  r.act_b = act.b;
  s8_gemm_reference(r);

  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < ldc; j++) {
      const size_t off = (i * ldc + j) * esize;
      if (j >= n) {
        for (size_t e = 0; e < esize; e++)
          if (c[off + e] != 0x5a) {
            std::fprintf(stderr, "  %s wrote past n: m=%zu n=%zu k=%zu (%zu,%zu)\n", sv ? sv->name : v.name, m, n, k,
                         i, j);
            return false;
          }
        continue;
      }
      bool ok;
      double got, want;
      if (cs.out == kS8OutI32) {
        int32_t x, y;
        std::memcpy(&x, &c[off], 4);
        std::memcpy(&y, &ref[off], 4);
        got = x;
        want = y;
        ok = x == y;
      } else if (cs.out == kS8OutF32) {
        float x, y;
        std::memcpy(&x, &c[off], 4);
        std::memcpy(&y, &ref[off], 4);
        got = x;
        want = y;
        ok = !act_exact(cs.act) ? std::fabs(got - want) <= kS8GeluAbsTol + kS8GeluRelTol * std::fabs(want) : x == y;
      } else {
        const int x = cs.out == kS8OutS8 ? int(int8_t(c[off])) : int(c[off]);
        const int y = cs.out == kS8OutS8 ? int(int8_t(ref[off])) : int(ref[off]);
        got = x;
        want = y;
        ok = !act_exact(cs.act) ? std::abs(x - y) <= kS8GeluRequantTol : x == y;
      }
      if (!ok) {
        std::fprintf(stderr,
                     "  %s m=%zu n=%zu k=%zu a%s b%s transB=%d za=%d zb=%d out=%s bias=%d act=%d fill=%d: "
                     "C[%zu][%zu]=%.9g want %.9g\n",
                     sv ? sv->name : v.name, m, n, k, cs.a_unsigned ? "u8" : "s8", cs.b_unsigned ? "u8" : "s8",
                     int(cs.trans_b),
                     cs.za_mode, cs.zb_mode, out_name(cs.out), int(cs.bias), cs.act, cs.fill, i, j, got, want);
        return false;
      }
    }
  return true;
}

template <class F>
void for_each_runnable(F&& f) {
  sttest::for_each_runnable(s8_gemm_table, f);
#if defined(__x86_64__) || defined(_M_X64)
  // The AMX kernel's source over a software model of the tile instructions (amx_emulated.cc): checks its
  // addressing, layouts and epilogue where the CPU has no AMX. Not a test of the hardware path.
  if (const S8GemmVariant* amx = s8_gemm_table.find("s8_gemm_32x32__amx")) {
    if (isa_supported(Isa::kAvx512)) {
      S8GemmVariant emu = *amx;
      emu.name = "s8_gemm_32x32__amx_emulated";
      emu.isa = Isa::kAvx512;
      emu.ukernel = &s8_gemm_32x32__amx_emulated;
      emu.begin = &s8_gemm_amx_begin_emulated;
      emu.end = &s8_gemm_amx_end_emulated;
      f(static_cast<const S8GemmVariant&>(emu));
    } else {
      sttest::skip("s8_gemm_32x32__amx_emulated", "CPU lacks AVX-512 (the emulated kernel's epilogue)");
    }
  }
#endif
}

// u8 A (m×k, row-major, no zero point) × the packed weights w into out (row-major, ldc n), int32 unless changed.
S8GemmArgs u8_args(const S8GemmVariant& v, PackedS8Weights& w, const uint8_t* a, size_t m, size_t n, size_t k,
                   void* out) {
  S8GemmArgs g = s8_gemm_args(v, w, m, n, k, a, k, true);
  g.out = kS8OutI32;
  g.c = out;
  g.ldc = n;
  return g;
}
// The epilogue sweep over `shapes`: every float / int8 output kind × activation (every conv code) × bias, with signedness, B's zero
// point mode and row padding varied by the seed (one per case, counting up; left past the last case). False at the
// first case `run` fails.
template <class F>
bool epilogue_cases(const size_t (&shapes)[4][3], uint64_t& seed, F&& run) {
  for (auto& s : shapes)
    for (int out = kS8OutF32; out <= kS8OutU8; out++)
      for (int act = 0; act < kConvActCount; act++)
        for (int bias = 0; bias < 2; bias++) {
          const Case cs{s[0], s[1], s[2], (seed & 1) != 0, (seed & 2) != 0, true, 2, int(seed % 3), out, bias != 0, act,
                        seed % 3 == 0 ? 5u : 0u, 0, seed};
          if (!run(cs)) return false;
          seed++;
        }
  return true;
}

}  // namespace

TEST(s8_gemm_int32_tile_edges_bit_exact) {
  for_each_runnable([](const S8GemmVariant& v) {
    std::vector<size_t> ms, ns = {1, v.nr - 1, v.nr, v.nr + 1, 3 * v.nr + 1};
    for (size_t m = 1; m <= v.mr + 1; m++) ms.push_back(m);
    ms.push_back(2 * v.mr + 1);
    const std::vector<size_t> ks = {1, 3, 4, 5, 63, 64, 65, 131};
    uint64_t seed = 11;
    for (size_t m : ms)
      for (size_t n : ns)
        for (size_t k : ks) {
          Case cs{m, n, k, (seed & 1) != 0, (seed & 2) != 0, (seed & 4) != 0, int(seed % 3), int((seed / 3) % 3),
                  kS8OutI32, false, 0, seed % 5 == 0 ? 3u : 0u, 0, seed};
          CHECK(run_case(v, cs), "%s", v.name);
          seed++;
        }
  });
}

TEST(s8_gemm_every_signedness_and_zero_point_mode) {
  for_each_runnable([](const S8GemmVariant& v) {
    uint64_t seed = 1000;
    for (int au = 0; au < 2; au++)
      for (int bu = 0; bu < 2; bu++)
        for (int tb = 0; tb < 2; tb++)
          for (int zam = 0; zam < 3; zam++)
            for (int zbm = 0; zbm < 3; zbm++) {
              Case cs{v.mr + 3, v.nr + 5, 77, au != 0, bu != 0, tb != 0, zam, zbm, kS8OutI32, false, 0, 1, 0, seed++};
              CHECK(run_case(v, cs), "%s", v.name);
            }
  });
}

TEST(s8_gemm_extreme_values_bit_exact) {
  // All-min, all-max and alternating extremes with zero points at the ends, K large enough that any int16
  // saturation (vpmaddubsw) or a wrong correction term shows.
  for_each_runnable([](const S8GemmVariant& v) {
    uint64_t seed = 2000;
    for (int fill = 1; fill <= 3; fill++)
      for (int au = 0; au < 2; au++)
        for (int bu = 0; bu < 2; bu++)
          for (size_t k : {size_t(1), size_t(255), size_t(1023), size_t(4099)}) {
            Case cs{5, v.nr + 3, k, au != 0, bu != 0, (seed & 1) != 0, 2, 2, kS8OutI32, false, 0, 0, fill, seed++};
            CHECK(run_case(v, cs), "%s", v.name);
          }
  });
}

TEST(s8_gemm_f32_and_requantized_epilogues) {
  for_each_runnable([](const S8GemmVariant& v) {
    const size_t shapes[][3] = {{1, 63, 64}, {v.mr + 1, v.nr + 1, 255}, {17, 33, 300}, {2 * v.mr + 3, 2 * v.nr - 1, 7}};
    uint64_t seed = 3000;
    CHECK(epilogue_cases(shapes, seed, [&](const Case& cs) { return run_case(v, cs); }), "%s", v.name);
  });
}

TEST(s8_gemm_k_zero_and_large_m_blocks) {
  for_each_runnable([](const S8GemmVariant& v) {
    Case k0{5, 37, 0, true, false, true, 2, 2, kS8OutI32, false, 0, 0, 0, 7};
    CHECK(run_case(v, k0), "%s K=0", v.name);
    Case k0f{5, 37, 0, false, false, true, 1, 0, kS8OutF32, true, 1, 0, 0, 8};
    CHECK(run_case(v, k0f), "%s K=0 f32", v.name);
    // More rows than one M block (mc) so the ic loop, and with several threads the M split, are exercised.
    const size_t k = 2048, mc = s8_gemm_mc(v, s8_round_up(k, v.kstep));
    Case big{mc + v.mr + 1, v.nr + 2, k, false, false, true, 2, 0, kS8OutI32, false, 0, 0, 0, 9};
    CHECK(run_case(v, big), "%s M > mc", v.name);
  });
}

TEST(s8_gemm_k_blocks_sweep) {
  // K cut into blocks (s8_gemm_kc, forced here: off by default): partial sums carried between blocks in int32 tiles
  // (kS8OutAcc / acc_in), the corrections and epilogue after the last block only. Sweep K around the block bound
  // and the tile edges, every output kind, zero-point mode and signedness: bit for bit against the reference.
  constexpr size_t kmax = 256;
  g_case_kc = kmax;
  for_each_runnable([&](const S8GemmVariant& v) {
    const size_t kpad = s8_round_up(2 * kmax + 5, v.kstep);
    if (v.a_layout == S8ALayout::kGroups)
      CHECK(s8_gemm_kc(v, kpad, kmax) < kpad && s8_gemm_kc(v, kpad, kmax) % v.kstep == 0, "%s kc", v.name);
    else CHECK(s8_gemm_kc(v, kpad, kmax) == kpad, "%s: a row layout is never split", v.name);
    CHECK(s8_gemm_kc(v, kmax, kmax) == kmax && s8_gemm_kc(v, kpad, 0) == kpad, "%s: one block", v.name);
    uint64_t seed = 6000;
    for (size_t k : {kmax - 1, kmax + 1, kmax + v.kstep, 2 * kmax + 5, 3 * kmax - 1, size_t(4099)})
      for (size_t m : {size_t(1), v.mr, v.mr + 1, 2 * v.mr + 3})
        for (size_t n : {size_t(1), v.nr - 1, v.nr + 1, 3 * v.nr + 1}) {
          const int out = int(seed % 4), act = out == kS8OutI32 ? 0 : int((seed / 4) % 2);
          Case cs{m, n, k, (seed & 1) != 0, (seed & 2) != 0, (seed & 4) != 0, int(seed % 3), int((seed / 3) % 3), out,
                  (seed & 8) != 0, act, seed % 5 == 0 ? 3u : 0u, seed % 7 == 0 ? 3 : 0, seed};
          CHECK(run_case(v, cs), "%s m=%zu n=%zu k=%zu out=%s", v.name, m, n, k, out_name(out));
          seed++;
        }
  });
  g_case_kc = 0;
}

// The driver's rows-in-place path (S8GemmEpilogue::a_lda: u8 A on the x86 kernels, K a multiple of 4 up to 512, no
// B zero points): full MR-row tiles unpacked, the partial last tile packed, K just past the bound packed again — the
// int8 pointwise conv's case (per-row A parameters, bias, hard-swish affine) and the raw int32 sums.
TEST(s8_gemm_rows_in_place_bit_exact) {
  for_each_runnable([](const S8GemmVariant& v) {
    uint64_t seed = 5000;
    for (size_t k : {size_t(4), size_t(32), size_t(64), size_t(240), size_t(480), size_t(512), size_t(516)})
      for (size_t m : {v.mr, 3 * v.mr + 1})
        for (int out : {int(kS8OutI32), int(kS8OutF32)}) {
          const bool f = out == kS8OutF32;
          Case cs{m, 2 * v.nr + 3, k, true, false, (seed & 1) != 0, f ? 2 : int(seed % 3), 0, out, f,
                  f ? int(kConvActHardSwishAffine) : 0, 0, 0, seed};
          CHECK(run_case(v, cs), "%s k=%zu m=%zu", v.name, k, m);
          seed++;
        }
  });
}

TEST(s8_gemm_repacked_layouts_agree) {
  // Weights packed first for another (nr, kstep, kgroup) are re-laid on demand (the ISA cap changed after packing).
  for_each_runnable([](const S8GemmVariant& v) {
    const size_t m = 3, n = 70, k = 129;
    sttest::Rng rng(5);
    std::vector<uint8_t> a(m * k), b(n * k);
    for (auto& x : a) x = uint8_t(rng.next() >> 24);
    for (auto& x : b) x = uint8_t(rng.next() >> 24);
    PackedS8Weights w0(b.data(), false, k, true, k, n, nullptr, 0, nullptr, 0, 7, 64, v.kgroup == 4 ? 8 : 4);
    PackedS8Weights w1(b.data(), false, k, true, k, n, nullptr, 0, nullptr, 0, v.nr, v.kstep, v.kgroup);
    std::vector<int32_t> c0(m * n), c1(m * n);
    for (int t = 0; t < 2; t++) {
      const S8GemmArgs g = u8_args(v, t ? w1 : w0, a.data(), m, n, k, t ? c1.data() : c0.data());
      s8_gemm_run(v, g);
    }
    CHECK(c0 == c1, "%s repacked weights differ", v.name);
  });
}

// ---- the small-M kernels (gemv.h) ----
namespace {
// The GEMM variant whose panels a small-M variant reads (only its layout fields are used, so it need not run here).
const S8GemmVariant* panel_owner(const S8GemvVariant& sv) {
  for (const S8GemmVariant& v : s8_gemm_table)
    if (v.nr == sv.nr && v.kgroup == 4 && v.kstep == 4 && v.a_signed == sv.a_signed) return &v;
  return nullptr;
}
// Each runnable small-M variant over its own panel layout, then over every wider-K-step layout with its columns (the
// AMX one: 64-byte K steps), which s8_gemv_for also hands it; those GEMM variants need not run here either.
template <class F>
void for_each_gemv(F&& f) {
  sttest::for_each_runnable(s8_gemv_table, [&](const S8GemvVariant& sv) {
    const S8GemmVariant* v = panel_owner(sv);
    CHECK(v != nullptr, "%s has no GEMM variant with its panel layout", sv.name);
    if (v) f(*v, sv);
    for (const S8GemmVariant& w : s8_gemm_table)
      if (w.nr == sv.nr && w.kgroup == 4 && w.kstep != 4 && w.kstep % 4 == 0 && w.a_signed == sv.a_signed) f(w, sv);
  });
}
}  // namespace

TEST(s8_gemv_int32_tile_edges_bit_exact) {
  // M 1..17 (every row count of a pass, several passes), N around the panel, K around the k-group and the
  // unrolled step (4·U bytes, U up to 4) so both the main loop and its tail run.
  for_each_gemv([](const S8GemmVariant& v, const S8GemvVariant& sv) {
    const std::vector<size_t> ns = {1, sv.nr - 1, sv.nr, sv.nr + 1, 3 * sv.nr + 1};
    const std::vector<size_t> ks = {1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 131};
    uint64_t seed = 5000;
    for (size_t m = 1; m <= 17; m++)  // the kernels take any M (several passes of MR rows)
      for (size_t n : ns)
        for (size_t k : ks) {
          Case cs{m, n, k, (seed & 1) != 0, (seed & 2) != 0, (seed & 4) != 0, int(seed % 3), int((seed / 3) % 3),
                  kS8OutI32, false, 0, seed % 5 == 0 ? 3u : 0u, 0, seed};
          CHECK(run_case(v, cs, &sv), "%s", sv.name);
          seed++;
        }
  });
}

TEST(s8_gemv_epilogues_and_extremes) {
  for_each_gemv([](const S8GemmVariant& v, const S8GemvVariant& sv) {
    uint64_t seed = 6000;
    const size_t shapes[][3] = {{1, 63, 64}, {sv.mr, sv.nr + 1, 255}, {sv.mr + 1, 33, 300}, {2, 2 * sv.nr - 1, 7}};
    CHECK(epilogue_cases(shapes, seed, [&](const Case& cs) { return run_case(v, cs, &sv); }), "%s", sv.name);
    for (int fill = 1; fill <= 3; fill++)
      for (int au = 0; au < 2; au++)
        for (int bu = 0; bu < 2; bu++)
          for (size_t m : {size_t(1), size_t(2), sv.mr + 1}) {
            Case cs{m, sv.nr + 3, 4099, au != 0, bu != 0, (seed & 1) != 0, 2, 2, kS8OutI32, false, 0, 0, fill, seed++};
            CHECK(run_case(v, cs, &sv), "%s", sv.name);
          }
    Case k0{3, 37, 0, true, false, true, 2, 2, kS8OutF32, true, 1, 0, 0, 7};
    CHECK(run_case(v, k0, &sv), "%s K=0", sv.name);
  });
}

TEST(s8_gemm_run_routes_small_m_to_the_gemv) {
  // s8_gemm_run at M <= kS8GemvMaxM gives the same bits as the tiled GEMM (int32), and picks a small-M kernel exactly
  // where the variant's layout has one.
  sttest::for_each_runnable(s8_gemm_table, [](const S8GemmVariant& v) {
    const S8GemvVariant* sv = s8_gemv_for(v);
    CHECK((sv != nullptr) == (v.kgroup == 4 && v.kstep % 4 == 0), "%s: small-M kernel %s", v.name,
          sv ? sv->name : "none");
    const size_t n = 2 * v.nr + 3, k = 133;
    sttest::Rng rng(77);
    std::vector<uint8_t> a(kS8GemvMaxM * k), b(n * k);
    for (auto& x : a) x = uint8_t(rng.next() >> 24);
    for (auto& x : b) x = uint8_t(rng.next() >> 24);
    PackedS8Weights w(b.data(), false, k, true, k, n, nullptr, 0, nullptr, 0, v.nr, v.kstep, v.kgroup);
    for (size_t m : {size_t(1), size_t(3), kS8GemvMaxM}) {
      std::vector<int32_t> c0(m * n), c1(m * n);
      for (int t = 0; t < 2; t++) {
        const S8GemmArgs g = u8_args(v, w, a.data(), m, n, k, t ? c1.data() : c0.data());
        if (t) s8_gemm_run_tiles(v, g);
        else s8_gemm_run(v, g);
      }
      CHECK(c0 == c1, "%s m=%zu small-M path differs from the tiles", v.name, m);
    }
  });
}

TEST(s8_linear_dynamic_fused_small_m_matches_the_gemm_path) {
  // The fused front end (rows quantized straight into the small-M kernel's input) against quantize_rows_dynamic +
  // the tiled GEMM on the same rows: the same bytes, parameters and epilogue, so the same f32 bits. Weights with
  // per-column zero points exercise the row sums; a row with NaN must come out all NaN.
  const QuantizeVariant& qv = quantize_table.select();
  sttest::for_each_runnable(s8_gemm_table, [&](const S8GemmVariant& v) {
    if (!s8_gemv_for(v)) return;
    for (size_t k : {size_t(1), size_t(6), size_t(64), size_t(131)})
      for (size_t m = 1; m <= 17; m++) {
        const size_t n = v.nr + 5;
        sttest::Rng rng(9000 + m * 7 + k);
        std::vector<float> x(m * k), bias(n), sb(n), y(m * n), ref(m * n);
        for (auto& e : x) e = 3.0f * rng.uniform();
        if (m > 2) x[1 * k + k / 2] = std::nanf("");
        for (auto& e : bias) e = rng.uniform();
        for (auto& e : sb) e = 0.01f + 0.01f * std::fabs(rng.uniform());
        std::vector<uint8_t> b(n * k);
        std::vector<int32_t> zb(n);
        for (auto& e : b) e = uint8_t(rng.next() >> 24);
        for (auto& e : zb) e = int32_t(rng.next() % 256) - 128;
        PackedS8Weights w(b.data(), false, k, true, k, n, zb.data(), n, sb.data(), n, v.nr, v.kstep, v.kgroup);
        s8_linear_dynamic_run(v, qv, S8LinearDynamicArgs{m, x.data(), k, &w, bias.data(), 1, y.data(), n});
        std::vector<uint8_t> xq(m * k), bad(m);
        std::vector<float> xs(m);
        std::vector<int32_t> xz(m);
        quantize_rows_dynamic(qv, m, k, x.data(), k, true, xq.data(), k, xs.data(), xz.data(), bad.data());
        S8GemmArgs g = u8_args(v, w, xq.data(), m, n, k, ref.data());
        g.a_zero = xz.data();
        g.a_zero_stride = 1;
        g.a_scale = xs.data();
        g.a_scale_stride = 1;
        g.out = kS8OutF32;
        g.bias = bias.data();
        g.act = 1;
        s8_gemm_run_tiles(v, g);
        bool ok = true;
        for (size_t i = 0; i < m && ok; i++)
          for (size_t j = 0; j < n && ok; j++) {
            const float got = y[i * n + j], want = ref[i * n + j];
            ok = bad[i] ? std::isnan(got) : std::memcmp(&got, &want, 4) == 0;
            if (!ok)
              std::fprintf(stderr, "  %s m=%zu k=%zu y[%zu][%zu]=%.9g want %.9g\n", v.name, m, k, i, j, got, want);
          }
        CHECK(ok, "%s fused small-M dynamic linear m=%zu k=%zu", v.name, m, k);
      }
  });
}
