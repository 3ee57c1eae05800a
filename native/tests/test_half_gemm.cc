// Every compiled half GEMM variant this CPU can run, through the real driver, against the scalar reference:
// tile-edge sweeps with f32/f16/bf16 A, fused epilogues, strided C, NaN/Inf, K = 0, layout re-lays, the entry
// points (half output, raw B), the fp16 range guard, and the native-fp16 error bound at K = 4096.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/half.h"
#include "common/vec_scalar.h"
#include "kernels/half-gemm/ukernel.h"
#include "kernels/half-gemm/half-gemm.h"
#include "runtime/core/aligned.h"
#include "runtime/half/gemm_driver.h"
#include "runtime/half/gemv_driver.h"
#include "runtime/half/pack.h"
#include "runtime/half/packed_weights.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Unit roundoffs. f32 accumulation of k exact products (convert-then-FMA and vdpbf16ps, whose bf16 products are
// exact in f32 and whose pair sum adds one rounding): |err| <= gamma(k+2, u32) · sum|a·b| (Higham's bound for
// any summation order), plus the output rounding.
constexpr double kU32 = 1.0 / 16777216.0;  // 2^-24
constexpr double kU16 = 1.0 / 2048.0;      // 2^-11, binary16
// fp16 subnormal spacing is 2^-24: one fp16 rounding in the subnormal range errs by at most 2^-25 absolutely.
constexpr double kF16SubnormalAbs = 1.0 / 33554432.0;
constexpr double kBiasAbsTol = 1e-6;  // the bias add is one more f32 rounding of |values| <= ~1e2

double gamma(double n, double u) { return n * u / (1.0 - n * u); }

// Per-element bound for a variant with K steps.
double rel_bound(const HalfGemmVariant& v, size_t k) {
  if (v.kblock == 0) return gamma(double(k) + 2, kU32);
  // Native fp16: each block of kblock products is summed in fp16 (gamma(kblock, u16)); the K/kblock block sums are
  // added in f32 (gamma(K/kblock + 2, u32)).
  return gamma(double(v.kblock), kU16) * (1 + kU32) + gamma(double(k) / double(v.kblock) + 2, kU32);
}

const char* type_name(ElemType t) { return t == ElemType::kF32 ? "f32" : t == ElemType::kF16 ? "f16" : "bf16"; }

// Random values in [-1, 1) stored as `t` (half types hold exactly representable values).
struct Operand {
  ElemType t;
  sttest::Flush<float> f;
  sttest::Flush<uint16_t> h;
  Operand(ElemType type, size_t n, sttest::Rng& rng, float scale = 1.0f) : t(type), f(n), h(n) {
    for (size_t i = 0; i < n; i++) {
      const float x = rng.uniform() * scale;
      if (t == ElemType::kF16) h[i] = f32_to_f16_scalar(x);
      else if (t == ElemType::kBf16) h[i] = f32_to_bf16_scalar(x);
      f[i] = t == ElemType::kF32 ? x : t == ElemType::kF16 ? f16_to_f32_scalar(h[i]) : bf16_to_f32_scalar(h[i]);
    }
  }
  const void* ptr() { return t == ElemType::kF32 ? static_cast<const void*>(f.data()) : h.data(); }
};


// Runs v's GEMM tiles (any M), or with sv the small-M kernel over v's panel layout.
bool run_case(const HalfGemmVariant& v, ElemType at, size_t m, size_t n, size_t k, bool trans_b, bool use_bias, int act,
              size_t ldc_pad, uint64_t seed, const HalfGemvVariant* sv = nullptr) {
  sttest::Rng rng(seed);
  Operand a(at, m * k, rng), b(v.b_type, k * n, rng);
  sttest::Flush<float> bias(n);
  for (size_t i = 0; i < n; i++) bias[i] = rng.uniform();
  const size_t ldc = n + ldc_pad, ldb = trans_b ? k : n;
  sttest::Flush<float> c(m * ldc), ref(m * ldc);
  for (size_t i = 0; i < m * ldc; i++) c[i] = ref[i] = 12345.0f;
  auto packed = aligned_alloc_array<uint16_t>(packed_b_half_count(k, n, v.b));
  pack_b_half(b.h.data(), ldb, trans_b, k, n, v.b, packed.get());
  HalfGemmArgs g{m, n, k, a.ptr(), at, k, packed.get(), c.data(), ldc, use_bias ? bias.data() : nullptr, act};
  if (sv) half_gemv_run(*sv, v.b.kpad, g);
  else half_gemm_run_tiles(v, g);
  half_gemm_reference(m, n, k, a.ptr(), at, k, b.h.data(), v.b_type, ldb, trans_b, ref.data(), ldc,
                      use_bias ? bias.data() : nullptr, act);
  const double rel = rel_bound(v, k);
  if (!sttest::stride_gap_untouched(c.data(), m, n, ldc, 12345.0f, v.name, k)) return false;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      const float got = c[i * ldc + j], want = ref[i * ldc + j];
      double mag = 0;
      for (size_t p = 0; p < k; p++) mag += std::fabs(double(a.f[i * k + p]) * b.f[trans_b ? j * k + p : p * n + j]);
      // The activation is 1-Lipschitz (GELU's slope is below 1.13): scale the bound by 1.13 for it.
      const double tol = (rel * mag + double(k) * (v.kblock ? kF16SubnormalAbs : 0.0) + kU32 * std::fabs(want) +
                          (use_bias ? kBiasAbsTol : 0.0)) * (act == kActGelu ? 1.13 : 1.0) + 1e-7;
      if (!(std::fabs(double(got) - double(want)) <= tol)) {
        std::fprintf(stderr, "  %s A=%s m=%zu n=%zu k=%zu transB=%d bias=%d act=%d: C[%zu][%zu]=%.9g want %.9g (tol %g)\n",
                     v.name, type_name(at), m, n, k, int(trans_b), int(use_bias), act, i, j, got, want, tol);
        return false;
      }
    }
  return true;
}

// Software fp16 lanes (each fma rounded to fp16 through the reference conversion) so the native-fp16 template
// (short fp16 K blocks folded into f32) and both of its A packings run on every machine, x86 included: the
// AVX512-FP16 kernel is this template plus five lane operations.
template <class AE>
struct HalfSoft {
  struct H {
    float v[8];
  };
  static constexpr int HW = 8;
  using AElem = AE;
  static float round16(float x) { return f16_to_f32_scalar(f32_to_f16_scalar(x)); }
  static H zero() { return H{{0, 0, 0, 0, 0, 0, 0, 0}}; }
  static H load(const uint16_t* p) {
    H h;
    for (int i = 0; i < 8; i++) h.v[i] = f16_to_f32_scalar(p[i]);
    return h;
  }
  static H bcast(const AE* p) {
    H h;
    for (int i = 0; i < 8; i++) h.v[i] = f16_to_f32_scalar(uint16_t(*p & 0xffffu));
    return h;
  }
  static H fmadd(H a, H b, H acc) {
    for (int i = 0; i < 8; i++) acc.v[i] = round16(std::fma(a.v[i], b.v[i], acc.v[i]));
    return acc;
  }
  static void widen(H h, float* out) {
    for (int i = 0; i < 8; i++) out[i] = h.v[i];
  }
};
void f16_gemm_4x16__softfp16(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                             unsigned flags, const float* bias, int act) {
  half_native_gemm_ukernel<HalfSoft<uint16_t>, VecScalar, 4, 2, 32>(m, n, kc, a, b, c, ldc, flags, bias, act);
}
void f16_gemm_3x16__softfp16dup(size_t m, size_t n, size_t kc, const void* a, const uint16_t* b, float* c, size_t ldc,
                                unsigned flags, const float* bias, int act) {
  half_native_gemm_ukernel<HalfSoft<uint32_t>, VecScalar, 3, 2, 32>(m, n, kc, a, b, c, ldc, flags, bias, act);
}
const HalfGemmVariant kSoftVariants[] = {
    {"f16_gemm_4x16__softfp16 (test emulation)", Isa::kScalar, ElemType::kF16, 4, {16, 1, 0, 1}, HalfAPack::kHalf, 32,
     &f16_gemm_4x16__softfp16},
    {"f16_gemm_3x16__softfp16dup (test emulation)", Isa::kScalar, ElemType::kF16, 3, {16, 1, 0, 1}, HalfAPack::kHalfDup,
     32, &f16_gemm_3x16__softfp16dup},
};

// Every compiled variant, then the software-fp16 emulations of the native template.
std::vector<const HalfGemmVariant*> all_variants() {
  std::vector<const HalfGemmVariant*> out;
  for (const HalfGemmVariant& v : half_gemm_table) out.push_back(&v);
  for (const auto& v : kSoftVariants) out.push_back(&v);
  return out;
}

std::vector<ElemType> a_types_for(const HalfGemmVariant& v) {
  if (v.a == HalfAPack::kF32) return {ElemType::kF32, v.b_type, v.b_type == ElemType::kF16 ? ElemType::kBf16 : ElemType::kF16};
  return {v.b_type};
}
}  // namespace

TEST(half_gemm_variants_sweep_tile_edges) {
  for (const HalfGemmVariant* vp : all_variants()) {
    const HalfGemmVariant& v = *vp;
    if (!sttest::runnable(v)) continue;
    const HalfGemmBlocking bl = half_gemm_blocking(v);
    const size_t nr = v.b.nr;
    std::vector<size_t> ms, ns = {1, nr - 1, nr, nr + 1, 3 * nr + 1};
    for (size_t m = 1; m <= v.mr + 1; m++) ms.push_back(m);
    ms.push_back(2 * v.mr + 1);  // first size past the small-M path
    ms.push_back(bl.mc + 3);
    const std::vector<size_t> ks = {1, 2, 7, 33, bl.kc - 1, bl.kc, bl.kc + 1};
    const std::vector<ElemType> ats = a_types_for(v);
    uint64_t seed = 1;
    for (size_t m : ms)
      for (size_t n : ns)
        for (size_t k : ks) {
          const ElemType at = ats[seed % ats.size()];
          CHECK(run_case(v, at, m, n, k, seed % 2 == 0, seed % 3 == 0, int(seed % 3), seed % 5 == 0 ? 3 : 0, seed),
                "%s", v.name);
          seed++;
        }
  }
}

TEST(half_gemm_odd_shapes_every_a_type_and_epilogue) {
  const size_t shapes[][3] = {{1, 63, 64}, {63, 65, 63}, {64, 64, 64}, {65, 1, 255}, {1, 255, 1023}, {17, 33, 300}};
  for (const HalfGemmVariant* vp : all_variants()) {
    const HalfGemmVariant& v = *vp;
    if (!sttest::runnable(v)) continue;
    for (ElemType at : a_types_for(v))
      for (auto& s : shapes)
        for (int act = 0; act < 3; act++)
          CHECK(run_case(v, at, s[0], s[1], s[2], act == 1, true, act, 1, 77 + act), "%s", v.name);
  }
}

TEST(half_gemm_k_zero_gives_activation_of_bias) {
  for (const HalfGemmVariant* vp : all_variants()) {
    const HalfGemmVariant& v = *vp;
    if (!sttest::runnable(v)) continue;
    CHECK(run_case(v, v.b_type, 5, 37, 0, false, true, kActRelu, 0, 3), "%s", v.name);
    CHECK(run_case(v, v.b_type, 5, 37, 0, true, false, kActNone, 0, 3), "%s", v.name);
  }
}

TEST(half_gemm_nan_inf_propagate) {
  for (const HalfGemmVariant* vp : all_variants()) {
    const HalfGemmVariant& v = *vp;
    if (!sttest::runnable(v)) continue;
    const bool f16 = v.b_type == ElemType::kF16;
    auto enc = [&](float x) { return f16 ? f32_to_f16_scalar(x) : f32_to_bf16_scalar(x); };
    const size_t m = 3, n = 20, k = 9;
    std::vector<uint16_t> a(m * k, enc(1.0f)), b(k * n, enc(1.0f));
    std::vector<float> c(m * n);
    a[0 * k + 4] = enc(NAN);
    a[1 * k + 2] = enc(INFINITY);
    b[3 * n + 5] = enc(-INFINITY);
    auto packed = aligned_alloc_array<uint16_t>(packed_b_half_count(k, n, v.b));
    pack_b_half(b.data(), n, false, k, n, v.b, packed.get());
    for (int act = 0; act < 6; act++) {  // act % 3, through the routed entry (small M) and then the tiles
      HalfGemmArgs g{m, n, k, a.data(), v.b_type, k, packed.get(), c.data(), n, nullptr, act % 3};
      if (act < 3) half_gemm_run(v, g);
      else half_gemm_run_tiles(v, g);
      for (size_t j = 0; j < n; j++) CHECK(std::isnan(c[j]), "%s act=%d row0 col %zu = %g", v.name, act, j, c[j]);
      CHECK(std::isnan(c[n + 5]), "%s act=%d inf-inf = %g", v.name, act, c[n + 5]);
      if (act % 3 == kActNone) {
        CHECK(std::isinf(c[n + 0]) && c[n + 0] > 0, "%s +inf: %g", v.name, c[n]);
        CHECK(std::isinf(c[2 * n + 5]) && c[2 * n + 5] < 0, "%s -inf: %g", v.name, c[2 * n + 5]);
      } else if (act % 3 == kActRelu) {
        CHECK(c[2 * n + 5] == 0.0f, "%s relu(-inf)", v.name);
      }
    }
  }
}

// Weights packed for one layout and run by a variant wanting another (the cap changed after packing).
TEST(half_gemm_packed_weights_relayout) {
  for (ElemType bt : {ElemType::kF16, ElemType::kBf16}) {
    const size_t m = 19, n = 77, k = 131;
    sttest::Rng rng(5);
    Operand a(ElemType::kF32, m * k, rng), b(bt, n * k, rng);  // b is N×K (trans_b, PyTorch layout)
    const HalfBLayout odd{8, 1, 0, 1};  // a layout no variant uses
    PackedHalfWeights w(bt, b.h.data(), k, true, k, n, odd);
    CHECK(w.max_abs() <= 1.0f && w.max_abs() > 0.9f, "max_abs %g", w.max_abs());
    std::vector<float> ref(m * n), c(m * n);
    half_gemm_reference(m, n, k, a.ptr(), ElemType::kF32, k, b.h.data(), bt, k, true, ref.data(), n, nullptr, 0);
    for (const HalfGemmVariant& v : half_gemm_table) {
      if (v.b_type != bt || v.a != HalfAPack::kF32 || !sttest::runnable(v)) continue;
      HalfGemmArgs g{m, n, k, a.ptr(), ElemType::kF32, k, w.panels(v.b), c.data(), n, nullptr, 0};
      half_gemm_run(v, g);
      for (size_t i = 0; i < m * n; i++) {
        double mag = 0;
        for (size_t p = 0; p < k; p++) mag += std::fabs(double(a.f[(i / n) * k + p]) * b.f[(i % n) * k + p]);
        CHECK(std::fabs(double(c[i]) - ref[i]) <= rel_bound(v, k) * mag + 1e-7, "%s relayout i=%zu %g vs %g", v.name, i, c[i], ref[i]);
      }
    }
  }
}

// The entry points: prepacked and raw B, f32/f16/bf16 output, strided output, every ISA cap.
TEST(half_matmul_entry_points_under_every_cap) {
  const Isa saved = max_isa();
  const Isa caps[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Bf16, Isa::kAvx512Fp16, Isa::kAmx,
                      Isa::kNeon, Isa::kNeonFp16};
  for (Isa cap : caps) {
    if (!isa_supported(cap)) continue;
    set_max_isa(cap);
    for (ElemType bt : {ElemType::kF16, ElemType::kBf16})
      for (ElemType at : {ElemType::kF32, bt})
        for (ElemType ot : {ElemType::kF32, ElemType::kF16, ElemType::kBf16}) {
          for (size_t m : {size_t(7), size_t(20)}) {  // the small-M kernel, then the tiles
          const size_t n = 45, k = 70, ldo = n + 2;
          sttest::Rng rng(11);
          Operand a(at, m * k, rng), b(bt, k * n, rng);
          sttest::Flush<float> bias(n);
          for (size_t j = 0; j < n; j++) bias[j] = rng.uniform();
          std::vector<float> ref(m * n);
          half_gemm_reference(m, n, k, a.ptr(), at, k, b.h.data(), bt, n, false, ref.data(), n, bias.data(), kActGelu);
          const HalfGemmVariant& v0 = half_matmul_variant(bt, at);
          CHECK(int(v0.isa) <= int(cap), "cap %s ran %s", isa_name(cap), v0.name);
          PackedHalfWeights w(bt, b.h.data(), n, false, k, n, v0.b);
          for (int raw = 0; raw < 2; raw++) {
            std::vector<float> of(m * ldo, 777.0f);
            std::vector<uint16_t> oh(m * ldo, 0xabcd);
            void* out = ot == ElemType::kF32 ? static_cast<void*>(of.data()) : oh.data();
            const char* name;
            if (raw) {
              HalfMatmulRawArgs x{m, n, k, a.ptr(), at, k, b.h.data(), bt, n, false, {out, ot, ldo, bias.data(), kActGelu}};
              name = half_matmul_raw(x);
            } else {
              HalfMatmulArgs x{m, a.ptr(), at, k, &w, {out, ot, ldo, bias.data(), kActGelu}};
              name = half_matmul(x);
            }
            const HalfGemmVariant* v = half_gemm_table.find(name);
            const HalfGemvVariant* sv = v ? nullptr : half_gemv_table.find(name);  // M <= kHalfGemvMaxM
            CHECK((v && int(v->isa) <= int(cap)) || (sv && int(sv->isa) <= int(cap)), "cap %s ran %s", isa_name(cap), name);
            if (!v && !sv) continue;
            const double rel = v ? rel_bound(*v, k) : gamma(double(k) + 2, kU32);
            const size_t kblock = v ? v->kblock : 0;
            for (size_t i = 0; i < m; i++)
              for (size_t j = 0; j < ldo; j++) {
                if (j >= n) {
                  CHECK(ot == ElemType::kF32 ? of[i * ldo + j] == 777.0f : oh[i * ldo + j] == 0xabcd, "wrote past n");
                  continue;
                }
                double mag = 0;
                for (size_t p = 0; p < k; p++) mag += std::fabs(double(a.f[i * k + p]) * b.f[p * n + j]);
                const double want = ref[i * n + j];
                double got, out_u = 0;
                if (ot == ElemType::kF32) {
                  got = of[i * ldo + j];
                } else if (ot == ElemType::kF16) {
                  got = f16_to_f32_scalar(oh[i * ldo + j]);
                  out_u = kU16;
                } else {
                  got = bf16_to_f32_scalar(oh[i * ldo + j]);
                  out_u = 1.0 / 256.0;  // 2^-8, bfloat16
                }
                const double tol = (rel * mag + kBiasAbsTol) * 1.13 + (out_u + kU32) * std::fabs(want) +
                                   double(k) * (kblock ? kF16SubnormalAbs : 0.0) + 1e-7;
                CHECK(std::fabs(got - want) <= tol, "cap %s %s A=%s out=%s raw=%d [%zu][%zu] %g want %g", isa_name(cap),
                      name, type_name(at), type_name(ot), raw, i, j, got, want);
              }
          }
          }
        }
  }
  set_max_isa(saved);
}

// ---- the small-M kernels (gemv.h) ----
namespace {
// Each runnable small-M variant over every GEMM panel layout it reads (a variant with the same B type, nr, kr and
// ilv, whatever its kpad: AMX's K padded to 32 included); those GEMM variants need not run here. f is called with a
// stand-in variant carrying that layout and f32 accumulation (kblock 0), and the A types the kernel takes.
template <class F>
void for_each_gemv(F&& f) {
  sttest::for_each_runnable(half_gemv_table, [&](const HalfGemvVariant& sv) {
    bool any = false;
    for (const HalfGemmVariant& v : half_gemm_table) {
      if (v.b_type != sv.b_type || v.b.nr != sv.nr || v.b.kr != sv.kr || v.b.ilv != sv.ilv) continue;
      any = true;
      HalfGemmVariant lay = v;
      lay.name = sv.name;
      lay.kblock = 0;
      const std::vector<ElemType> ats = sv.a_type == ElemType::kF32
          ? std::vector<ElemType>{ElemType::kF32, ElemType::kF16, ElemType::kBf16} : std::vector<ElemType>{sv.a_type};
      f(lay, sv, ats);
    }
    CHECK(any, "%s has no GEMM variant with its panel layout", sv.name);
  });
}
}  // namespace

TEST(half_gemv_tile_edges_every_a_type) {
  // M 1..17 (every row count of a pass, several passes), N around the panel, K around the unrolled step (U K steps
  // or pairs, U up to 8) and odd K for the pair kernels, strided C, every epilogue.
  for_each_gemv([](const HalfGemmVariant& lay, const HalfGemvVariant& sv, const std::vector<ElemType>& ats) {
    const std::vector<size_t> ns = {1, sv.nr - 1, sv.nr, sv.nr + 1, 3 * sv.nr + 1};
    const std::vector<size_t> ks = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 65, 131};
    uint64_t seed = 900;
    for (size_t m = 1; m <= 17; m++)
      for (size_t n : ns)
        for (size_t k : ks) {
          const ElemType at = ats[seed % ats.size()];
          CHECK(run_case(lay, at, m, n, k, seed % 2 == 0, seed % 3 == 0, int(seed % 3), seed % 5 == 0 ? 3 : 0, seed, &sv),
                "%s", sv.name);
          seed++;
        }
  });
}

TEST(half_gemv_long_k_and_routing) {
  // K = 4099 (the unrolled loop over thousands of steps, an odd tail) for every A type; and half_gemm_run takes the
  // small-M kernel exactly up to half_gemv_max_m_for(v) rows (1 on AMX panels) where the variant's layout has one.
  for_each_gemv([](const HalfGemmVariant& lay, const HalfGemvVariant& sv, const std::vector<ElemType>& ats) {
    for (ElemType at : ats)
      for (size_t m : {size_t(1), size_t(2), sv.mr, sv.mr + 1})
        CHECK(run_case(lay, at, m, sv.nr + 3, 4099, true, true, kActGelu, 1, 31 + m, &sv), "%s", sv.name);
  });
  for (const HalfGemmVariant& v : half_gemm_table) {
    if (!sttest::runnable(v)) continue;
    for (ElemType at : a_types_for(v)) {
      const HalfGemvVariant* sv = half_gemv_for(v, at);
      CHECK(half_gemv_small_m(v, at, half_gemv_max_m_for(v)) == sv, "%s", v.name);
      CHECK(half_gemv_small_m(v, at, half_gemv_max_m_for(v) + 1) == nullptr, "%s", v.name);
      CHECK(half_gemv_max_m_for(v) == (v.isa == Isa::kAmx ? std::min<size_t>(1, half_gemv_max_m()) : half_gemv_max_m()),
            "%s", v.name);
      if (sv) CHECK(sv->b_type == v.b_type && sv->nr == v.b.nr && sv->kr == v.b.kr && int(sv->isa) <= int(max_isa()),
                    "%s -> %s", v.name, sv->name);
    }
  }
}

TEST(half_gemm_fp16_range_guard) {
  CHECK(half_gemm_fp16_range_ok(32, 1.0f, 1.0f), "1x1");
  CHECK(half_gemm_fp16_range_ok(32, 30.0f, 30.0f), "30x30: 32*900 = 28800 fits");
  CHECK(!half_gemm_fp16_range_ok(32, 40.0f, 30.0f), "40x30: 32*1200 overflows the margin");
  CHECK(!half_gemm_fp16_range_ok(32, INFINITY, 1.0f), "inf");
  CHECK(!half_gemm_fp16_range_ok(32, NAN, 1.0f), "nan");
  CHECK(!half_gemm_fp16_range_ok(32, 0.01f, 0.01f), "tiny products stay on f32 accumulation");
  CHECK(!half_gemm_fp16_range_ok(32, 0.0f, 1.0f), "zeros");
  // Selection: out of range never picks a native-fp16 variant; in range with f32 A never does either.
  for (ElemType bt : {ElemType::kF16, ElemType::kBf16}) {
    CHECK(half_gemm_select(bt, bt, false).kblock == 0, "range guard ignored");
    CHECK(half_gemm_select(bt, ElemType::kF32, true).a == HalfAPack::kF32, "f32 A must stay exact");
  }
  // The entry falls back on large magnitudes and gives the f32-accumulated answer (M past the small-M kernels, which
  // accumulate in f32 anyway).
  const size_t m = kHalfGemvMaxM + 2, n = 16, k = 64;
  std::vector<uint16_t> a(m * k, f32_to_f16_scalar(300.0f)), b(k * n, f32_to_f16_scalar(200.0f));
  std::vector<float> out(m * n);
  HalfMatmulRawArgs x{m, n, k, a.data(), ElemType::kF16, k, b.data(), ElemType::kF16, n, false,
                      {out.data(), ElemType::kF32, n, nullptr, 0}};
  const char* name = half_matmul_raw(x);
  CHECK(half_gemm_table.find(name)->kblock == 0, "ran %s on overflowing magnitudes", name);
  for (float v : out) CHECK(v == 300.0f * 200.0f * 64, "%g", v);
}

// Native fp16 accumulation at K = 4096: every element within the rigorous bound, and the error far below that of
// plain fp16 accumulation over all of K (emulated here), which is what the fold into f32 is for.
TEST(half_gemm_native_fp16_error_at_k4096) {
  for (const HalfGemmVariant* vp : all_variants()) {
    const HalfGemmVariant& v = *vp;
    if (v.kblock == 0) continue;
    if (!sttest::runnable(v)) continue;
    const size_t m = 5, n = 37, k = 4096;
    sttest::Rng rng(4096);
    Operand a(ElemType::kF16, m * k, rng), b(ElemType::kF16, k * n, rng);
    auto packed = aligned_alloc_array<uint16_t>(packed_b_half_count(k, n, v.b));
    pack_b_half(b.h.data(), n, false, k, n, v.b, packed.get());
    std::vector<float> c(m * n), ref(m * n);
    HalfGemmArgs g{m, n, k, a.ptr(), ElemType::kF16, k, packed.get(), c.data(), n, nullptr, 0};
    half_gemm_run_tiles(v, g);  // the native template itself (the small-M kernels accumulate in f32)
    half_gemm_reference(m, n, k, a.ptr(), ElemType::kF16, k, b.h.data(), ElemType::kF16, n, false, ref.data(), n, nullptr, 0);
    double se = 0, se_plain = 0, max_rel = 0;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double mag = 0;
        float plain = 0.0f;  // fp16 accumulation of all K, each fma rounded to fp16
        for (size_t p = 0; p < k; p++) {
          const double ab = double(a.f[i * k + p]) * b.f[p * n + j];
          mag += std::fabs(ab);
          plain = f16_to_f32_scalar(f32_to_f16_scalar(float(double(plain) + ab)));
        }
        const double err = std::fabs(double(c[i * n + j]) - ref[i * n + j]);
        CHECK(err <= rel_bound(v, k) * mag + double(k) * kF16SubnormalAbs, "%s [%zu][%zu] err %g bound %g", v.name, i, j, err,
              rel_bound(v, k) * mag);
        max_rel = std::max(max_rel, err / mag);
        se += err * err;
        se_plain += (double(plain) - ref[i * n + j]) * (double(plain) - ref[i * n + j]);
      }
    const double rms = std::sqrt(se / double(m * n)), rms_plain = std::sqrt(se_plain / double(m * n));
    // The f32-accumulating variant on the same operands, for comparison.
    const HalfGemmVariant& cv = half_gemm_select(ElemType::kF16, ElemType::kF16, false);
    auto cpacked = aligned_alloc_array<uint16_t>(packed_b_half_count(k, n, cv.b));
    pack_b_half(b.h.data(), n, false, k, n, cv.b, cpacked.get());
    std::vector<float> c32(m * n);
    HalfGemmArgs g32{m, n, k, a.ptr(), ElemType::kF16, k, cpacked.get(), c32.data(), n, nullptr, 0};
    half_gemm_run_tiles(cv, g32);
    double se32 = 0, sr = 0;
    for (size_t i = 0; i < m * n; i++) {
      se32 += (double(c32[i]) - ref[i]) * (double(c32[i]) - ref[i]);
      sr += double(ref[i]) * ref[i];
    }
    const double rms_res = std::sqrt(sr / double(m * n));
    std::printf("  %s K=4096: rms err %.3g = %.2g of rms result %.3g (plain fp16 accumulation %.3g; f32 accumulation "
                "%s %.3g), max err/sum|ab| %.3g (bound %.3g)\n",
                v.name, rms, rms / rms_res, rms_res, rms_plain, cv.name, std::sqrt(se32 / double(m * n)), max_rel,
                rel_bound(v, k));
    // Expected ratio ~ sqrt(K / kblock) (11 at kblock 32); 3x leaves room for the randomness of 185 samples.
    CHECK(rms * 3 < rms_plain, "%s: blocked rms %g not clearly below plain fp16 accumulation %g", v.name, rms, rms_plain);
  }
}
