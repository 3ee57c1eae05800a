// The register-blocked int8 GEMM microkernel, written once over dot-product traits T and instantiated per ISA.
// MR rows × NV vectors of int32 accumulators stay in registers over the K block the driver passes (the whole padded
// K, or one block of it with the partial sums carried in an int32 tile between calls: acc_in / kS8OutAcc); the
// zero-point correction, dequantization, bias, activation and requantization run on those registers before one store.
//
// T provides (beside the IVec* epilogue ops it derives from):
//   A bcast_a(const uint8_t* p)    the 4 bytes of one row's k-group, broadcast (any register form)
//   B load_b(const int8_t* p)      W columns × 4 k of the packed B panel
//   I dot4(I acc, A a, B b)        acc[lane] += sum_t a[t] · b[4·lane + t]
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include "common/vec_math.h"
#include "kernels/f32-conv-common/activation_vec.h"
#include "kernels/s8-gemm/s8-gemm.h"

#define ST_S8_UNROLL _Pragma("GCC unroll 32")
// The epilogue's register paths inlined into each tile even where GCC's budget says no (the tile has two K loops,
// packed and in place: without it the epilogue became a call and the 24 accumulators went through the stack).
// Not under AddressSanitizer: GCC 12's ASan build of the forced-inline AVX2 / AVX-VNNI tiles gave wrong sums in the
// native sweep (every shape, in-place A or not; the AVX-512 ones and the release build under every ISA cap were
// right) — the same ASan-only symptom an earlier register-array form of the epilogue showed (docs/onnx-optimize.md,
// sixth pass). The sanitized tests check the same C++ with the epilogue as a call.
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__SANITIZE_ADDRESS__)
#define ST_S8_INLINE inline __attribute__((always_inline))
#else
#define ST_S8_INLINE inline
#endif

namespace simdtensor {
namespace {

// The 4 bytes of one row's k-group as one int32, for bcast_a to broadcast.
inline int32_t s8_load_group(const uint8_t* p) {
  int32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

// Dot traits over whole int32 registers of the IVec* traits IV (A and B both IV::I: the VNNI vpdpbusd forms):
// the ISA file adds only dot4.
template <class IV>
struct S8DotI32 : IV {
  using I = typename IV::I;
  using A = I;
  using B = I;
  static A bcast_a(const uint8_t* p) { return IV::set1(s8_load_group(p)); }
  static B load_b(const int8_t* p) { return IV::loadi(reinterpret_cast<const int32_t*>(p)); }
};

// The valid columns of vector j of a tile whose first n columns are valid (W lanes a vector).
template <int W>
inline size_t s8_tile_cols(size_t n, int j) {
  const size_t off = size_t(j) * W;
  return off >= n ? 0 : (n - off < size_t(W) ? n - off : size_t(W));
}

// The dequantize / activation / store loop of s8_gemm_epilogue for one activation code C known at compile time
// (every conv activation — hard-swish with its affine, hard-sigmoid, clip… — in registers, so the int8 conv needs no
// second pass over its float32 output), or C = -1: none / relu / gelu chosen per vector from ep.act, as the GEMM
// always did. One instantiation per code keeps the switch out of the tile loop (a per-vector switch cost measurable
// time in the int8 pointwise convs).
template <class T, int NV, int M, int C>
inline void s8_gemm_store(typename T::I (&acc)[M][NV], size_t n, void* c, size_t ldc, const S8GemmEpilogue& ep,
                          const typename T::V::R (&sb)[NV], const typename T::V::R (&bias)[NV]) {
  using V = typename T::V;
  using R = typename V::R;
  const bool full = n == size_t(NV * T::W);
  auto cnt = [&](int j) { return s8_tile_cols<T::W>(n, j); };
  const R inv = V::set1(ep.out_inv_scale), lo = V::set1(ep.out_lo), hi = V::set1(ep.out_hi);
  const typename T::I zo = T::set1(ep.out_zero);
  const ConvActVec<V> act(ConvAct{ep.act, ep.act_a, ep.act_b});
  for (int i = 0; i < M; i++) {
    const R sa = V::set1(ep.sab ? 1.0f : ep.sa[i]);
    for (int j = 0; j < NV; j++) {
      if (!full && !cnt(j)) continue;
      // y = float(acc) · (sa·sb) [+ bias, one fused multiply-add]: the same two roundings on every ISA (with sab,
      // sb holds the driver's per-column products sa·sb).
      const R s = ep.sab ? sb[j] : V::mul(sa, sb[j]);
      R y = T::to_f32(acc[i][j]);
      y = ep.bias ? T::fma(y, s, bias[j]) : V::mul(y, s);
      if constexpr (C < 0) {
        if (ep.act == 1) y = vrelu<V>(y);
        else if (ep.act == 2) y = vgelu_rational<V>(y);
      } else {
        y = act.template one<C>(y);
      }
      if (ep.out == kS8OutF32) {
        float* out = static_cast<float*>(c) + i * ldc + j * T::W;
        if (full) V::store(out, y);
        else V::store_partial(out, y, cnt(j));
      } else {
        R v = V::mul(y, inv);
        v = V::select(V::isnan(v), V::zero(), v);
        v = V::min(V::max(v, lo), hi);
        const typename T::I q = T::add(T::cvt_rne(v), zo);
        T::store_bytes(static_cast<uint8_t*>(c) + i * ldc + j * T::W, q, full ? size_t(T::W) : cnt(j));
      }
    }
  }
}

// The f32 epilogue of a full tile with its options fixed at compile time (per-column or per-row scale, bias,
// activation): straight-line code for the common case instead of a branch per option on every vector. Without
// GELU the row loop is unrolled as well, so the accumulators never leave their registers.
// ACT >= 3 (the conv activations: clip, hard-swish with its affine, …) through ConvActVec::one<ACT>, the same
// operations as s8_gemm_store's.
template <class T, int NV, int M, bool SAB, bool BIAS, int ACT>
ST_S8_INLINE void s8_gemm_epilogue_f32_full(const typename T::I (&acc)[M][NV], float* out, size_t ldc,
                                      const typename T::V::R (&sb)[NV], const typename T::V::R (&bias)[NV],
                                      const S8GemmEpilogue& ep) {
  using V = typename T::V;
  using R = typename V::R;
  constexpr int W = T::W;
  const float* sa = ep.sa;
  const ConvActVec<V> act(ConvAct{ep.act, ep.act_a, ep.act_b});
  auto one = [&](int i, int j, typename T::I a) {
    const R s = SAB ? sb[j] : V::mul(V::set1(sa[i]), sb[j]);
    R y = T::to_f32(a);
    y = BIAS ? T::fma(y, s, bias[j]) : V::mul(y, s);
    if constexpr (ACT == 1) y = vrelu<V>(y);
    if constexpr (ACT == 2) y = vgelu_rational<V>(y);
    if constexpr (ACT >= 3) y = act.template one<ACT>(y);
    V::store(out + i * ldc + j * W, y);
  };
  if constexpr (ACT == 2) {  // a rolled loop (GELU's body is long), over a copy so `acc` itself stays in registers
    typename T::I r[M][NV];
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) r[i][j] = acc[i][j];
    for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) one(i, j, r[i][j]);
  } else {
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) one(i, j, acc[i][j]);
  }
}

template <class T, int NV, int M, bool SAB>
ST_S8_INLINE void s8_gemm_epilogue_f32_full_act(const typename T::I (&acc)[M][NV], float* out, size_t ldc,
                                          const typename T::V::R (&sb)[NV], const typename T::V::R (&bias)[NV],
                                          const S8GemmEpilogue& ep) {
  const bool b = ep.bias != nullptr;
  if (ep.act == 2) return b ? s8_gemm_epilogue_f32_full<T, NV, M, SAB, true, 2>(acc, out, ldc, sb, bias, ep)
                            : s8_gemm_epilogue_f32_full<T, NV, M, SAB, false, 2>(acc, out, ldc, sb, bias, ep);
  if (ep.act == 1) return b ? s8_gemm_epilogue_f32_full<T, NV, M, SAB, true, 1>(acc, out, ldc, sb, bias, ep)
                            : s8_gemm_epilogue_f32_full<T, NV, M, SAB, false, 1>(acc, out, ldc, sb, bias, ep);
  return b ? s8_gemm_epilogue_f32_full<T, NV, M, SAB, true, 0>(acc, out, ldc, sb, bias, ep)
           : s8_gemm_epilogue_f32_full<T, NV, M, SAB, false, 0>(acc, out, ldc, sb, bias, ep);
}

// The conv activations on a full tile (full columns, f32 output) with the bias: the int8 pointwise conv's case
// (rec's `a·hardSwish(y) + b` after every pointwise conv). Straight-line code, where s8_gemm_store indexes rows at
// run time and tests sab / bias / the output type per vector: measured there, hard-swish added 19–34 µs to a
// 3840×64 → 64 conv (+25 %) against 5–10 µs here. Instantiated for full row tiles only (M = MR, nearly every tile of
// a conv) to bound the code size; returns false where it did not apply.
template <class T, int NV, int M, int MR>
ST_S8_INLINE bool s8_gemm_epilogue_f32_conv_act(const typename T::I (&acc)[M][NV], float* out, size_t ldc,
                                          const typename T::V::R (&sb)[NV], const typename T::V::R (&bias)[NV],
                                          const S8GemmEpilogue& ep) {
  if constexpr (M != MR) {
    return false;
  } else {
    if (!ep.bias) return false;
#define ST_S8_CONV_ACT(C)                                                                               \
  case C:                                                                                               \
    if (ep.sab) s8_gemm_epilogue_f32_full<T, NV, M, true, true, C>(acc, out, ldc, sb, bias, ep);        \
    else s8_gemm_epilogue_f32_full<T, NV, M, false, true, C>(acc, out, ldc, sb, bias, ep);              \
    return true;
    switch (ep.act) {
      ST_S8_CONV_ACT(kConvActClip)
      ST_S8_CONV_ACT(kConvActHardSigmoid)
      ST_S8_CONV_ACT(kConvActHardSwish)
      ST_S8_CONV_ACT(kConvActHardSwishAffine)
      default: return false;
    }
#undef ST_S8_CONV_ACT
  }
}

// MR: the caller's full row count, for s8_gemm_epilogue_f32_conv_act (-1: that path off — the small-M kernels, AMX).
template <class T, int NV, int M, int MR = -1>
ST_S8_INLINE void s8_gemm_epilogue(typename T::I (&acc)[M][NV], size_t n, void* c, size_t ldc,
                                   const S8GemmEpilogue& ep) {
  using I = typename T::I;
  using V = typename T::V;
  using R = typename V::R;
  constexpr int W = T::W;
  const bool full = n == size_t(NV * W);
  auto cnt = [&](int j) { return s8_tile_cols<W>(n, j); };
  if (ep.colterm) {  // a per-tensor ZA': its product with colcorr taken once per column by the driver
    ST_S8_UNROLL for (int j = 0; j < NV; j++) {
      const I ct = full ? T::loadi(ep.colterm + j * W) : T::loadi_partial(ep.colterm + j * W, cnt(j));
      ST_S8_UNROLL for (int i = 0; i < M; i++) acc[i][j] = T::add(acc[i][j], ct);
    }
  } else {
    I cc[NV];
    ST_S8_UNROLL for (int j = 0; j < NV; j++)
      cc[j] = full ? T::loadi(ep.colcorr + j * W) : T::loadi_partial(ep.colcorr + j * W, cnt(j));
    ST_S8_UNROLL for (int i = 0; i < M; i++) {
      const I za = T::set1(ep.za[i]);
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[i][j] = T::sub(acc[i][j], T::mullo(za, cc[j]));
    }
  }
  if (ep.zb) {
    I zb[NV];
    ST_S8_UNROLL for (int j = 0; j < NV; j++) zb[j] = full ? T::loadi(ep.zb + j * W) : T::loadi_partial(ep.zb + j * W, cnt(j));
    ST_S8_UNROLL for (int i = 0; i < M; i++) {
      const I rs = T::set1(ep.rs[i]);
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[i][j] = T::sub(acc[i][j], T::mullo(rs, zb[j]));
    }
  }
  if (ep.out == kS8OutI32) {
    int32_t* out = static_cast<int32_t*>(c);
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) {
        if (full) T::storei(out + i * ldc + j * W, acc[i][j]);
        else if (cnt(j)) T::storei_partial(out + i * ldc + j * W, acc[i][j], cnt(j));
      }
    return;
  }
  // sab (a per-tensor sa): the products sa·sb_j taken once per column by the driver, the same float multiply.
  const float* scol = ep.sab ? ep.sab : ep.sb;
  R sb[NV], bias[NV];
  for (int j = 0; j < NV; j++) {
    sb[j] = full ? V::load(scol + j * W) : V::load_partial(scol + j * W, cnt(j));
    bias[j] = !ep.bias ? V::zero() : full ? V::load(ep.bias + j * W) : V::load_partial(ep.bias + j * W, cnt(j));
  }
  if (full && ep.out == kS8OutF32 && ep.act >= 0 && ep.act <= 2) {
    float* out = static_cast<float*>(c);
    if (ep.sab) return s8_gemm_epilogue_f32_full_act<T, NV, M, true>(acc, out, ldc, sb, bias, ep);
    return s8_gemm_epilogue_f32_full_act<T, NV, M, false>(acc, out, ldc, sb, bias, ep);
  }
  if (full && ep.out == kS8OutF32 &&
      s8_gemm_epilogue_f32_conv_act<T, NV, M, MR>(acc, static_cast<float*>(c), ldc, sb, bias, ep))
    return;
  // The general loop indexes rows at run time: it works on a copy, so `acc` can stay in registers on the paths above.
  I r[M][NV];
  ST_S8_UNROLL for (int i = 0; i < M; i++)
    ST_S8_UNROLL for (int j = 0; j < NV; j++) r[i][j] = acc[i][j];
  switch (ep.act) {
    case kConvActClip: return s8_gemm_store<T, NV, M, kConvActClip>(r, n, c, ldc, ep, sb, bias);
    case kConvActLeakyRelu: return s8_gemm_store<T, NV, M, kConvActLeakyRelu>(r, n, c, ldc, ep, sb, bias);
    case kConvActSigmoid: return s8_gemm_store<T, NV, M, kConvActSigmoid>(r, n, c, ldc, ep, sb, bias);
    case kConvActHardSigmoid: return s8_gemm_store<T, NV, M, kConvActHardSigmoid>(r, n, c, ldc, ep, sb, bias);
    case kConvActHardSwish: return s8_gemm_store<T, NV, M, kConvActHardSwish>(r, n, c, ldc, ep, sb, bias);
    case kConvActHardSwishAffine:
      return s8_gemm_store<T, NV, M, kConvActHardSwishAffine>(r, n, c, ldc, ep, sb, bias);
    default: return s8_gemm_store<T, NV, M, -1>(r, n, c, ldc, ep, sb, bias);
  }
}

// DIRECT: A's rows read in place at stride ep.a_lda (see S8GemmEpilogue::a_lda) instead of from the packed tile.
template <class T, int MR, int NV, int M, bool DIRECT = false>
inline void s8_gemm_tile(size_t n, size_t kpad, const uint8_t* __restrict a, const int8_t* __restrict b, void* c,
                         size_t ldc, const S8GemmEpilogue& ep) {
  using I = typename T::I;
  using A = typename T::A;
  using B = typename T::B;
  constexpr int W = T::W;
  constexpr int NR = NV * W;
  // The small loops must be unrolled before GCC's scalar replacement runs, or the accumulator array stays in
  // memory (vpdpbusd has a single destructive form and GCC then stores every accumulator on every k step).
  // (Few-row tiles such as the M = 1 GEMV stream B at the machine's read rate with one chain per vector: measured,
  // extra accumulator sets or software prefetch did not help.)
  I acc[M][NV];
  if (ep.acc_in) {
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[i][j] = T::loadi(ep.acc_in + (i * NV + j) * W);
  } else {
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[i][j] = T::zero();
  }
  const size_t lda = DIRECT ? ep.a_lda : 0;
  for (size_t p = 0; p < kpad; p += 4) {
    B bv[NV];
    ST_S8_UNROLL for (int j = 0; j < NV; j++) bv[j] = T::load_b(b + j * W * 4);
    ST_S8_UNROLL for (int i = 0; i < M; i++) {
      const A av = T::bcast_a(DIRECT ? a + i * lda : a + 4 * i);
      ST_S8_UNROLL for (int j = 0; j < NV; j++) acc[i][j] = T::dot4(acc[i][j], av, bv[j]);
    }
    a += DIRECT ? 4 : 4 * MR;
    b += 4 * NR;
  }
  if (ep.out == kS8OutAcc) {  // a K block before the last: raw sums, corrected once at the end
    int32_t* t = static_cast<int32_t*>(c);
    ST_S8_UNROLL for (int i = 0; i < M; i++)
      ST_S8_UNROLL for (int j = 0; j < NV; j++) T::storei(t + (i * NV + j) * W, acc[i][j]);
    return;
  }
  I res[M][NV];  // handing `acc` itself to the epilogue by reference defeats the scalar replacement too
  ST_S8_UNROLL for (int i = 0; i < M; i++)
    ST_S8_UNROLL for (int j = 0; j < NV; j++) res[i][j] = acc[i][j];
  s8_gemm_epilogue<T, NV, M, MR>(res, n, c, ldc, ep);
}

template <class T, int MR, int NV, int M>
inline void s8_gemm_dispatch_m(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c,
                               size_t ldc, const S8GemmEpilogue& ep) {
  if constexpr (M > 0) {
    if (m == size_t(M)) return s8_gemm_tile<T, MR, NV, M>(n, kpad, a, b, c, ldc, ep);
    return s8_gemm_dispatch_m<T, MR, NV, M - 1>(m, n, kpad, a, b, c, ldc, ep);
  }
}

// The microkernel entry: one instantiation per row count 1..MR, so partial row tiles run at full speed.
// ep->a_lda != 0 (rows of A in place): full row tiles only (m = MR), one more instantiation.
template <class T, int MR, int NV>
inline void s8_gemm_ukernel(size_t m, size_t n, size_t kpad, const uint8_t* a, const int8_t* b, void* c, size_t ldc,
                            const S8GemmEpilogue* ep) {
  if (ep->a_lda && m == size_t(MR)) return s8_gemm_tile<T, MR, NV, MR, true>(n, kpad, a, b, c, ldc, *ep);
  s8_gemm_dispatch_m<T, MR, NV, MR>(m, n, kpad, a, b, c, ldc, *ep);
}

}  // namespace
}  // namespace simdtensor
