// Half-precision conversion family: f32 <-> binary16 and f32 <-> bfloat16 over arrays, one variant list per
// direction (best first), each checked bit for bit against the scalar reference in common/half.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum class HalfCvtKind : int { kF32ToF16 = 0, kF16ToF32 = 1, kF32ToBf16 = 2, kBf16ToF32 = 3 };

// One converter: n elements from `in` to `out` (f32 or 16-bit bits by direction). Buffers must not overlap.
using HalfCvtFn = void (*)(size_t n, const void* in, void* out);

struct HalfCvtVariant {
  const char* name;
  Isa isa;
  HalfCvtKind kind;
  HalfCvtFn fn;
};

#define ST_HALF_CVT(sym, isa, kind) void sym(size_t n, const void* in, void* out);
#include "kernels/half-convert/kernels.inc"
#undef ST_HALF_CVT

// Every compiled converter (all directions, best first within each direction); filled in cpu/dispatch.cc.
extern const VariantTable<HalfCvtVariant> half_cvt_table;
// The best converter of `kind` the ISA cap allows (never null: the scalar ones are always compiled).
inline const HalfCvtVariant& half_cvt_select(HalfCvtKind kind) {
  return half_cvt_table.select(field_is(&HalfCvtVariant::kind, kind));
}

// Convenience wrappers over the selected variants.
inline void f32_to_f16(size_t n, const float* in, uint16_t* out) { half_cvt_select(HalfCvtKind::kF32ToF16).fn(n, in, out); }
inline void f16_to_f32(size_t n, const uint16_t* in, float* out) { half_cvt_select(HalfCvtKind::kF16ToF32).fn(n, in, out); }
inline void f32_to_bf16(size_t n, const float* in, uint16_t* out) { half_cvt_select(HalfCvtKind::kF32ToBf16).fn(n, in, out); }
inline void bf16_to_f32(size_t n, const uint16_t* in, float* out) { half_cvt_select(HalfCvtKind::kBf16ToF32).fn(n, in, out); }

}  // namespace simdtensor
