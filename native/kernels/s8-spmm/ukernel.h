// Portable pieces of the int8 sparse kernels, written over f32 vector traits V (the epilogues) or plain C++.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include "common/vec_act.h"
#include "kernels/s8-spmm/s8-spmm.h"

namespace simdtensor {
namespace {

inline int32_t s8_dot4(uint32_t xw, int32_t ww) {
  int32_t s = 0;
  for (int j = 0; j < 4; j++) s += int32_t((xw >> (8 * j)) & 0xffu) * int32_t(int8_t(uint32_t(ww) >> (8 * j)));
  return s;
}

template <class Idx>
void s8_spmm_row_scalar_t(const S8SparseView& w, size_t r0, size_t r1, const uint8_t* xq, size_t ldx, size_t m,
                          int32_t* acc, size_t ldacc) {
  const Idx* gi = static_cast<const Idx*>(w.gidx);
  for (size_t r = r0; r < r1; r++)
    for (size_t i = 0; i < m; i++) {
      const uint8_t* xr = xq + i * ldx;
      int32_t s = 0;
      for (size_t j = w.ptr[r]; j < w.ptr[r + 1]; j++) {
        uint32_t xw;
        std::memcpy(&xw, xr + 4 * size_t(gi[j]), 4);
        s += s8_dot4(xw, w.gval[j]);
      }
      acc[i * ldacc + r] = s;
    }
}

inline void s8_spmm_row_scalar(const S8SparseView& w, size_t r0, size_t r1, const uint8_t* xq, size_t ldx, size_t m,
                               int32_t* acc, size_t ldacc) {
  if (w.idx16) return s8_spmm_row_scalar_t<uint16_t>(w, r0, r1, xq, ldx, m, acc, ldacc);
  s8_spmm_row_scalar_t<uint32_t>(w, r0, r1, xq, ldx, m, acc, ldacc);
}

template <class V>
void s8_spmm_row_epilogue(float* y, const int32_t* acc, size_t n, float sx, float szx, const float* scale,
                          const int32_t* rowsum, const float* bias, int act) {
  constexpr int W = V::W;
  alignas(64) float t[W];
  for (size_t i = 0; i < n; i += W) {
    const size_t c = n - i < size_t(W) ? n - i : size_t(W);
    for (size_t j = 0; j < c; j++) t[j] = sx * float(acc[i + j]) - szx * float(rowsum[i + j]);
    typename V::R v = V::mul(V::load_partial(t, c), V::load_partial(scale + i, c));
    if (bias) v = V::add(v, V::load_partial(bias + i, c));
    V::store_partial(y + i, vact<V>(v, act), c);
  }
}

// Portable xt kernel: lanes as a plain array (the compiler may vectorize the lane loops).
template <class V, int LANES>
void s8_spmm_xt_scalar(const S8SparseView& w, size_t r0, size_t r1, const int32_t* xq4t, size_t nv, const float* sx,
                       const float* szx, float* outt, size_t ldt, const float* bias, int act) {
  const size_t mt = nv * LANES;
  for (size_t r = r0; r < r1; r++) {
    int32_t acc[4 * LANES] = {};
    for (size_t j = w.ptr[r]; j < w.ptr[r + 1]; j++) {
      const size_t g = w.idx16 ? size_t(static_cast<const uint16_t*>(w.gidx)[j]) : size_t(static_cast<const uint32_t*>(w.gidx)[j]);
      const int32_t* xp = xq4t + g * mt;
      for (size_t i = 0; i < mt; i++) acc[i] += s8_dot4(uint32_t(xp[i]), w.gval[j]);
    }
    float* dst = outt + (r - r0) * ldt;
    const float rs = float(w.rowsum[r]), sc = w.scale[r], b = bias ? bias[r] : 0.0f;
    for (size_t i = 0; i < mt; i++) dst[i] = (sx[i] * float(acc[i]) - szx[i] * rs) * sc + b;
    for (size_t i = 0; i < mt; i += V::W) V::store(dst + i, vact<V>(V::load(dst + i), act));
  }
}

}  // namespace
}  // namespace simdtensor
