// Every compiled half converter against the scalar reference (bit for bit), and the scalar reference against an
// independent double-precision oracle: exhaustive over all 65536 half patterns, midpoints and their neighbours
// for every finite half, a random f32 sweep, and specials (NaN payloads, ±0, ±Inf, subnormals, overflow ties).
#include <cmath>
#include <string>
#include <vector>

#include "common/half.h"
#include "kernels/half-convert/half-convert.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {

bool is_f16_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
bool is_bf16_nan(uint16_t h) { return (h & 0x7f80) == 0x7f80 && (h & 0x7f); }

// Independent oracles: the value a finite half encodes, and RNE of a finite f32 computed in double.
double f16_value(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double mag = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(double(1024 + m), e - 25);
  return (h & 0x8000) ? -mag : mag;
}
double bf16_value(uint16_t h) {
  const int e = (h >> 7) & 0xff, m = h & 0x7f;
  const double mag = e == 0 ? std::ldexp(double(m), -133) : std::ldexp(double(128 + m), e - 134);
  return (h & 0x8000) ? -mag : mag;
}
// Rounds |v| to `mant_bits` fractional bits with exponent floor `emin` (subnormal quantum 2^(emin-mant_bits)), RNE.
double round_to_format(double v, int mant_bits, int emin) {
  const double a = std::fabs(v);
  if (a == 0 || std::isinf(a)) return v;
  const int e = std::max(std::ilogb(a), emin);
  const double q = std::ldexp(1.0, e - mant_bits);
  const double r = std::nearbyint(a / q) * q;  // a/q is exact (q is a power of two); nearbyint rounds half to even
  return std::signbit(v) ? -r : r;
}
uint16_t oracle_f32_to_f16(float f) {
  const double r = round_to_format(f, 10, -14);
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  if (std::fabs(r) >= 65536.0) return sign | 0x7c00;
  const double a = std::fabs(r);
  if (a < std::ldexp(1.0, -14)) return uint16_t(sign | uint16_t(a * 16777216.0));
  const int e = std::ilogb(a);
  return uint16_t(sign | ((e + 15) << 10) | (int(std::ldexp(a, 10 - e)) - 1024));
}
uint16_t oracle_f32_to_bf16(float f) {
  const double r = round_to_format(f, 7, -126);
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  if (std::fabs(r) >= std::ldexp(1.0, 128)) return sign | 0x7f80;
  const double a = std::fabs(r);
  if (a < std::ldexp(1.0, -126)) return uint16_t(sign | uint16_t(std::ldexp(a, 133)));
  const int e = std::ilogb(a);
  return uint16_t(sign | ((e + 127) << 7) | (int(std::ldexp(a, 7 - e)) - 128));
}

// f32 inputs for the narrowing tests: every finite half's (or bf16's) midpoint to its successor and the f32 on
// either side of it, the exact values, specials, and `random` random bit patterns.
std::vector<float> narrowing_inputs(bool bf16, size_t random) {
  std::vector<float> xs;
  for (uint32_t h = 0; h < 0x10000; h++) {
    const uint16_t b = uint16_t(h);
    if (bf16 ? ((b & 0x7f80) == 0x7f80) : ((b & 0x7c00) == 0x7c00)) continue;
    const double v = bf16 ? bf16_value(b) : f16_value(b);
    const uint16_t succ = uint16_t(b + 1);
    const bool succ_finite = bf16 ? (succ & 0x7f80) != 0x7f80 : (succ & 0x7c00) != 0x7c00;
    const double w = succ_finite ? (bf16 ? bf16_value(succ) : f16_value(succ))
                                 : (v < 0 ? -1 : 1) * (bf16 ? std::ldexp(1.0, 128) : 65536.0);
    const float mid = float((v + w) / 2);  // exact in f32 for both formats
    xs.push_back(float(v));
    xs.push_back(mid);
    xs.push_back(std::nextafter(mid, 0.0f));
    xs.push_back(std::nextafter(mid, mid < 0 ? -INFINITY : INFINITY));
  }
  const uint32_t specials[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fbfffffu,
                               0xff812345u, 0x7fe00001u, 0x00000001u, 0x80000001u, 0x007fffffu, 0x00400000u,
                               0x00008000u, 0x00018000u, 0x477fe000u, 0x477ff000u, 0x477fefffu, 0x7f7fffffu,
                               0x7f7f8000u, 0x7f7f7fffu, 0x33000000u, 0x33000001u, 0xb3000000u, 0x387fe000u,
                               0x387ff000u, 0x38800000u, 0x80000000u, 0x00000000u};
  for (uint32_t s : specials) xs.push_back(f32_from_bits(s));
  sttest::Rng rng(2024);
  for (size_t i = 0; i < random; i++) {
    uint32_t r = rng.next();
    if (i & 1) r = (r & 0x87ffffffu) | 0x38000000u;  // half the draws near the f16 exponent range
    xs.push_back(f32_from_bits(r));
  }
  return xs;
}

std::vector<const HalfCvtVariant*> variants_of(HalfCvtKind kind) {
  std::vector<const HalfCvtVariant*> out;
  for (const HalfCvtVariant& v : half_cvt_table)
    if (v.kind == kind) out.push_back(&v);
  return out;
}

}  // namespace

TEST(half_reference_widening_matches_oracle_all_65536) {
  for (int bf = 0; bf < 2; bf++) {
    const char* type = bf ? "bf16" : "f16";
    const uint16_t exp_mask = bf ? 0x7f80 : 0x7c00;
    for (uint32_t h = 0; h < 0x10000; h++) {
      const uint16_t b = uint16_t(h);
      const float f = bf ? bf16_to_f32_scalar(b) : f16_to_f32_scalar(b);
      const uint32_t x = f32_bits(f);
      if (bf ? is_bf16_nan(b) : is_f16_nan(b)) {
        // bf16: the bits as they are, shifted up; f16: the sign, the quiet bit set, the payload's low 9 bits kept.
        const bool bits = bf ? x == uint32_t(b) << 16
                             : (x >> 31) == uint32_t(b >> 15) && (x & 0x400000u) && ((x >> 13) & 0x1ffu) == (b & 0x1ffu);
        CHECK(std::isnan(f) && bits, "%s nan %04x -> %08x", type, b, x);
      } else if ((b & exp_mask) == exp_mask) {
        CHECK(std::isinf(f) && std::signbit(f) == bool(b & 0x8000), "%s inf %04x", type, b);
      } else {
        const double want = bf ? bf16_value(b) : f16_value(b);
        CHECK(double(f) == want && std::signbit(f) == bool(b & 0x8000), "%s %04x -> %a", type, b, double(f));
      }
    }
  }
}

TEST(half_reference_narrowing_matches_oracle) {
  for (int bf = 0; bf < 2; bf++) {
    const std::vector<float> xs = narrowing_inputs(bf, 1 << 18);
    for (float x : xs) {
      const uint16_t got = bf ? f32_to_bf16_scalar(x) : f32_to_f16_scalar(x);
      if (std::isnan(x)) {
        const uint32_t xb = f32_bits(x);
        const uint16_t want = bf ? uint16_t((xb >> 16) | 0x40) : uint16_t(((xb >> 16) & 0x8000) | 0x7e00 | ((xb >> 13) & 0x3ff));
        CHECK(got == want, "%s nan %08x -> %04x want %04x", bf ? "bf16" : "f16", xb, got, want);
        continue;
      }
      const uint16_t want = bf ? oracle_f32_to_bf16(x) : oracle_f32_to_f16(x);
      CHECK(got == want, "%s %a (%08x) -> %04x want %04x", bf ? "bf16" : "f16", double(x), f32_bits(x), got, want);
    }
  }
}

TEST(half_reference_round_trips) {
  for (uint32_t h = 0; h < 0x10000; h++) {
    const uint16_t b = uint16_t(h);
    const uint16_t f16 = f32_to_f16_scalar(f16_to_f32_scalar(b));
    CHECK(f16 == (is_f16_nan(b) ? uint16_t(b | 0x200) : b), "f16 %04x -> %04x", b, f16);
    const uint16_t bf = f32_to_bf16_scalar(bf16_to_f32_scalar(b));
    CHECK(bf == (is_bf16_nan(b) ? uint16_t(b | 0x40) : b), "bf16 %04x -> %04x", b, bf);
  }
}

// Widening: every variant, all 65536 patterns, bit for bit (input flush against its buffer end).
TEST(half_cvt_widening_variants_exhaustive) {
  for (HalfCvtKind kind : {HalfCvtKind::kF16ToF32, HalfCvtKind::kBf16ToF32}) {
    sttest::Flush<uint16_t> in(0x10000);
    for (uint32_t h = 0; h < 0x10000; h++) in[h] = uint16_t(h);
    for (const HalfCvtVariant* v : variants_of(kind)) {
      if (!sttest::runnable(*v)) continue;
      sttest::Flush<float> out(0x10000);
      v->fn(0x10000, in.data(), out.data());
      for (uint32_t h = 0; h < 0x10000; h++) {
        const float want = kind == HalfCvtKind::kF16ToF32 ? f16_to_f32_scalar(uint16_t(h)) : bf16_to_f32_scalar(uint16_t(h));
        CHECK(f32_bits(out[h]) == f32_bits(want), "%s %04x -> %08x want %08x", v->name, h, f32_bits(out[h]), f32_bits(want));
      }
    }
  }
}

// Narrowing: every variant over midpoints, neighbours, specials and 2^20 random f32, bit for bit.
TEST(half_cvt_narrowing_variants_sweep) {
  for (HalfCvtKind kind : {HalfCvtKind::kF32ToF16, HalfCvtKind::kF32ToBf16}) {
    const bool bf = kind == HalfCvtKind::kF32ToBf16;
    const std::vector<float> xs = narrowing_inputs(bf, 1 << 20);
    sttest::Flush<float> in(xs.size());
    for (size_t i = 0; i < xs.size(); i++) in[i] = xs[i];
    for (const HalfCvtVariant* v : variants_of(kind)) {
      if (!sttest::runnable(*v)) continue;
      sttest::Flush<uint16_t> out(xs.size());
      v->fn(xs.size(), in.data(), out.data());
      for (size_t i = 0; i < xs.size(); i++) {
        const uint16_t want = bf ? f32_to_bf16_scalar(xs[i]) : f32_to_f16_scalar(xs[i]);
        CHECK(out[i] == want, "%s %08x -> %04x want %04x (i=%zu)", v->name, f32_bits(xs[i]), out[i], want, i);
      }
    }
  }
}

// Every length 0..80 (vector bodies, unrolled bodies, every tail): no write past n (sentinels), flush inputs.
TEST(half_cvt_all_lengths_and_tails) {
  sttest::Rng rng(9);
  for (const HalfCvtVariant& v : half_cvt_table) {
    if (!sttest::runnable(v)) continue;
    const bool widen = v.kind == HalfCvtKind::kF16ToF32 || v.kind == HalfCvtKind::kBf16ToF32;
    for (size_t n = 0; n <= 80; n++) {
      if (widen) {
        sttest::Flush<uint16_t> in(n);
        for (size_t i = 0; i < n; i++) in[i] = uint16_t(rng.next());
        std::vector<float> out(n + 17, 777.0f);
        v.fn(n, in.data(), out.data());
        for (size_t i = 0; i < n; i++) {
          const float want = v.kind == HalfCvtKind::kF16ToF32 ? f16_to_f32_scalar(in[i]) : bf16_to_f32_scalar(in[i]);
          CHECK(f32_bits(out[i]) == f32_bits(want), "%s n=%zu i=%zu", v.name, n, i);
        }
        for (size_t i = n; i < n + 17; i++) CHECK(out[i] == 777.0f, "%s n=%zu wrote past the end at %zu", v.name, n, i);
      } else {
        sttest::Flush<float> in(n);
        for (size_t i = 0; i < n; i++) in[i] = rng.uniform() * 70000.0f * (i % 3 == 0 ? 1e-9f : 1.0f);
        std::vector<uint16_t> out(n + 17, 0xabcd);
        v.fn(n, in.data(), out.data());
        for (size_t i = 0; i < n; i++) {
          const uint16_t want = v.kind == HalfCvtKind::kF32ToF16 ? f32_to_f16_scalar(in[i]) : f32_to_bf16_scalar(in[i]);
          CHECK(out[i] == want, "%s n=%zu i=%zu: %04x want %04x", v.name, n, i, out[i], want);
        }
        for (size_t i = n; i < n + 17; i++) CHECK(out[i] == 0xabcd, "%s n=%zu wrote past the end at %zu", v.name, n, i);
      }
    }
  }
}

// The cap selects the expected variant per direction (scalar under 'scalar').
TEST(half_cvt_cap_forces_each_path) {
  const Isa saved = max_isa();
  for (const HalfCvtVariant& v : half_cvt_table) {
    if (!sttest::runnable(v)) continue;
    set_max_isa(v.isa);
    const HalfCvtVariant& got = half_cvt_select(v.kind);
    // The first variant of this kind at or below the cap: v itself unless a better one shares its level.
    CHECK(int(got.isa) <= int(v.isa), "cap %s picked %s", isa_name(v.isa), got.name);
    CHECK(got.isa == v.isa, "cap %s picked %s, expected %s", isa_name(v.isa), got.name, v.name);
  }
  set_max_isa(Isa::kScalar);
  for (HalfCvtKind k : {HalfCvtKind::kF32ToF16, HalfCvtKind::kF16ToF32, HalfCvtKind::kF32ToBf16, HalfCvtKind::kBf16ToF32})
    CHECK(half_cvt_select(k).isa == Isa::kScalar, "scalar cap picked %s", half_cvt_select(k).name);
  set_max_isa(saved);
}
