// The half converters' array loop, written once: Body::kBlock elements per Body::block, then Body::tail for the
// rest. Each ISA file (built with its own flags) instantiates it under its own symbols; the directions below give
// the element types and the scalar tail (the reference of common/half.h), and the two-vector bodies serve every
// ISA whose half traits H convert W lanes at a time (AVX2, AVX-512).
#pragma once
#include <cstddef>
#include <cstdint>
#include "common/half.h"
#include "kernels/half-convert/half-convert.h"

namespace simdtensor {
namespace {

// One direction; alone (kBlock 0) it is the portable variant: the scalar reference over every element.
template <class From, class To, To (*One)(From)>
struct HalfCvtDir {
  using In = From;
  using Out = To;
  static constexpr size_t kBlock = 0;
  static constexpr bool kMasked = false;
  static void tail(const From* x, To* y, size_t r) {
    for (size_t j = 0; j < r; j++) y[j] = One(x[j]);
  }
};
using F32ToF16 = HalfCvtDir<float, uint16_t, f32_to_f16_scalar>;
using F16ToF32 = HalfCvtDir<uint16_t, float, f16_to_f32_scalar>;
using F32ToBf16 = HalfCvtDir<float, uint16_t, f32_to_bf16_scalar>;
using Bf16ToF32 = HalfCvtDir<uint16_t, float, bf16_to_f32_scalar>;

// Body::kBlock elements per Body::block; the rest Body::kPart at a time through the masked Body::part where
// Body::kMasked, else through the scalar Body::tail.
template <class Body>
inline void half_cvt_loop(size_t n, const void* in, void* out) {
  const typename Body::In* x = static_cast<const typename Body::In*>(in);
  typename Body::Out* y = static_cast<typename Body::Out*>(out);
  size_t i = 0;
  if constexpr (Body::kBlock > 0)
    for (; i + Body::kBlock <= n; i += Body::kBlock) Body::block(x + i, y + i);
  if constexpr (Body::kMasked) {
    if constexpr (Body::kPart >= Body::kBlock) {
      if (i < n) Body::part(x + i, y + i, n - i);  // what the blocks left fits one part
    } else {
      for (; i < n; i += Body::kPart) Body::part(x + i, y + i, n - i);
    }
  } else {
    Body::tail(x + i, y + i, n - i);
  }
}

// Two vectors of H::W lanes per step, for the ISAs whose half traits H give load/store (f32), loadh/storeh (W
// 16-bit lanes), narrow/widen (binary16), u16_to_i32/shl16/storei (bfloat16 bits); where H::kMasked, also mask(r)
// and the *_part ops for the tail.
template <class H, class Dir>
struct HalfCvtX2 : Dir {
  static constexpr size_t kBlock = 2 * size_t(H::W), kPart = size_t(H::W);
  static constexpr bool kMasked = H::kMasked;
};

template <class H>
struct F16NarrowX2 : HalfCvtX2<H, F32ToF16> {
  static void block(const float* x, uint16_t* y) {
    const typename H::H a = H::narrow(H::load(x)), b = H::narrow(H::load(x + H::W));
    H::storeh(y, a);
    H::storeh(y + H::W, b);
  }
  static void part(const float* x, uint16_t* y, size_t r) { H::narrow_part(x, y, H::mask(r)); }
};

template <class H>
struct F16WidenX2 : HalfCvtX2<H, F16ToF32> {
  static void block(const uint16_t* x, float* y) {
    H::store(y, H::widen(H::loadh(x)));
    H::store(y + H::W, H::widen(H::loadh(x + H::W)));
  }
  static void part(const uint16_t* x, float* y, size_t r) { H::widen_part(x, y, H::mask(r)); }
};

template <class H>
struct Bf16WidenX2 : HalfCvtX2<H, Bf16ToF32> {
  static void block(const uint16_t* x, float* y) {
    const typename H::I a = H::u16_to_i32(H::loadh(x)), b = H::u16_to_i32(H::loadh(x + H::W));
    H::storei(y, H::shl16(a));
    H::storei(y + H::W, H::shl16(b));
  }
  static void part(const uint16_t* x, float* y, size_t r) { H::bf16_widen_part(x, y, H::mask(r)); }
};

}  // namespace
}  // namespace simdtensor

// The four entry points of one ISA file (f32_f16_cvt__<isa>, f16_f32_cvt__<isa>, f32_bf16_cvt__<isa>,
// bf16_f32_cvt__<isa>, as kernels.inc names them), each half_cvt_loop over that direction's body.
#define ST_HALF_CVT_ENTRIES(isa, f16_narrow, f16_widen, bf16_narrow, bf16_widen)                             \
  void f32_f16_cvt__##isa(size_t n, const void* in, void* out) { half_cvt_loop<f16_narrow>(n, in, out); }   \
  void f16_f32_cvt__##isa(size_t n, const void* in, void* out) { half_cvt_loop<f16_widen>(n, in, out); }    \
  void f32_bf16_cvt__##isa(size_t n, const void* in, void* out) { half_cvt_loop<bf16_narrow>(n, in, out); } \
  void bf16_f32_cvt__##isa(size_t n, const void* in, void* out) { half_cvt_loop<bf16_widen>(n, in, out); }
