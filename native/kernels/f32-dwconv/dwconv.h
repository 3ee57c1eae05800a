// Depthwise conv kernels written once over vector traits V; each ISA file instantiates them with its pixel tile P.
#pragma once
#include <cstddef>
#include <cstring>
#include <vector>
#include "kernels/f32-conv-common/activation_vec.h"
#include "kernels/f32-conv-common/window.h"
#include "kernels/f32-dwconv/f32-dwconv.h"

namespace simdtensor {
namespace {

// Keeps a loaded vector in a register: without it compilers fold the load into every FMA that uses it, so a tile
// reloads each input vector once per pixel it feeds instead of once (2x the loads of the register-reuse design, and
// loads, not FMAs, then bound the kernel).
template <class R>
inline void dw_keep(R& v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(_M_X64))
  __asm__("" : "+v"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  (void)v;
#endif
}

#ifndef ST_DWCONV_ROW_PAIRS
#define ST_DWCONV_ROW_PAIRS 1
#endif
constexpr bool kDwconvRowPairs = ST_DWCONV_ROW_PAIRS;
// The paired tile must inline the activation: an out-of-line call spills every weight and accumulator register.
#if defined(__GNUC__)
#define ST_DW_FLATTEN __attribute__((flatten))
#else
#define ST_DW_FLATTEN
#endif

template <class V, int P>
struct Dwconv {
  using R = typename V::R;
  static constexpr size_t W = size_t(V::W);

  template <bool Full>
  static R ld(const float* p, size_t nv) { return Full ? V::load(p) : V::load_partial(p, nv); }
  template <bool Full>
  static void st(float* p, R v, size_t nv) {
    if (Full) V::store(p, v);
    else V::store_partial(p, v, nv);
  }

  // One output pixel, every channel, taps bounds-checked (borders and shapes without a register tile).
  template <bool Full>
  static void pixel_block(const DwconvShape& s, const float* x, const float* w, const float* bias,
                          const ConvActVec<V>& act, float* yp, ptrdiff_t iy, ptrdiff_t ix, size_t ky0, size_t ky1,
                          size_t kx0, size_t kx1, size_t c, size_t nv) {
    const size_t C = s.c;
    R acc = bias ? ld<Full>(bias + c, nv) : V::zero();
    for (size_t ky = ky0; ky < ky1; ky++) {
      const float* xr = x + size_t(iy + ptrdiff_t(ky * s.dh)) * s.iw * C + c;
      const float* wr = w + ky * s.kw * C + c;
      for (size_t kx = kx0; kx < kx1; kx++)
        acc = V::fmadd(ld<Full>(xr + size_t(ix + ptrdiff_t(kx * s.dw)) * C, nv), ld<Full>(wr + kx * C, nv), acc);
    }
    st<Full>(yp + c, act(acc), nv);
  }
  static void pixel(const DwconvShape& s, const float* x, const float* w, const float* bias, const ConvActVec<V>& act,
                    float* y, size_t oy, size_t ox) {
    size_t ky0, ky1, kx0, kx1;
    window_taps(oy, s.sh, s.pt, s.dh, s.kh, s.ih, &ky0, &ky1);
    window_taps(ox, s.sw, s.pl, s.dw, s.kw, s.iw, &kx0, &kx1);
    const ptrdiff_t iy = ptrdiff_t(oy * s.sh) - ptrdiff_t(s.pt), ix = ptrdiff_t(ox * s.sw) - ptrdiff_t(s.pl);
    float* yp = y + (oy * s.ow + ox) * s.c;
    size_t c = 0;
    for (; c + W <= s.c; c += W) pixel_block<true>(s, x, w, bias, act, yp, iy, ix, ky0, ky1, kx0, kx1, c, W);
    if (c < s.c) pixel_block<false>(s, x, w, bias, act, yp, iy, ix, ky0, ky1, kx0, kx1, c, s.c - c);
  }

  // Narrows the tap-check-free columns [fx0, fx1) to the strip [xa, xb): afterwards xa <= fx0 <= fx1 <= xb.
  static void clip_columns(size_t* fx0, size_t* fx1, size_t xa, size_t xb) {
    *fx0 = *fx0 < xa ? xa : *fx0 > xb ? xb : *fx0;
    *fx1 = *fx1 < *fx0 ? *fx0 : *fx1 > xb ? xb : *fx1;
  }

  // One output row, one channel vector: the KH×KW weights stay in registers and each input vector loaded feeds every
  // pixel of a P-pixel tile it touches (stride SW, dilation 1 along the row). rows[ky] is null for an input row in
  // the padding; the columns [fx0, fx1) need no column checks, the pixels left and right of them check each tap.
  template <int KH, int KW, int SW, bool Full>
  static void tile_block(const DwconvShape& s, const float* const* rows, const float* w, const float* bias,
                         const ConvActVec<V>& act, float* yrow, size_t fx0, size_t fx1, size_t xa, size_t xb,
                         size_t c, size_t nv) {
    const size_t C = s.c;
    R wv[KH * KW];
    for (int i = 0; i < KH * KW; i++) wv[i] = ld<Full>(w + size_t(i) * C + c, nv);
    const R b = bias ? ld<Full>(bias + c, nv) : V::zero();
    auto edge = [&](size_t ox) {
      R acc = b;
      const ptrdiff_t ix = ptrdiff_t(ox * SW) - ptrdiff_t(s.pl);
      for (int ky = 0; ky < KH; ky++) {
        if (!rows[ky]) continue;
        for (int kx = 0; kx < KW; kx++) {
          const ptrdiff_t xx = ix + kx;
          if (xx < 0 || xx >= ptrdiff_t(s.iw)) continue;
          acc = V::fmadd(ld<Full>(rows[ky] + size_t(xx) * C + c, nv), wv[ky * KW + kx], acc);
        }
      }
      act.template apply<1>(&acc);
      st<Full>(yrow + ox * C + c, acc, nv);
    };
    clip_columns(&fx0, &fx1, xa, xb);
    for (size_t ox = xa; ox < fx0; ox++) edge(ox);
    size_t ox = fx0;
    for (; ox + P <= fx1; ox += P) {
      R acc[P];
      for (int p = 0; p < P; p++) acc[p] = b;
      const size_t ix = ox * SW - s.pl;
#pragma GCC unroll 8
      for (int ky = 0; ky < KH; ky++) {
        if (!rows[ky]) continue;
        const float* xp = rows[ky] + ix * C + c;
#pragma GCC unroll 16
        for (int j = 0; j < (P - 1) * SW + KW; j++) {
          R xv = ld<Full>(xp + size_t(j) * C, nv);
          dw_keep(xv);
#pragma GCC unroll 8
          for (int p = 0; p < P; p++) {
            const int kx = j - p * SW;
            if (kx >= 0 && kx < KW) acc[p] = V::fmadd(xv, wv[ky * KW + kx], acc[p]);
          }
        }
      }
      act.template apply<P>(acc);
      for (int p = 0; p < P; p++) st<Full>(yrow + (ox + p) * C + c, acc[p], nv);
    }
    for (; ox < fx1; ox++) {
      R acc = b;
      for (int ky = 0; ky < KH; ky++) {
        if (!rows[ky]) continue;
        const float* xp = rows[ky] + (ox * SW - s.pl) * C + c;
        for (int kx = 0; kx < KW; kx++) acc = V::fmadd(ld<Full>(xp + size_t(kx) * C, nv), wv[ky * KW + kx], acc);
      }
      act.template apply<1>(&acc);
      st<Full>(yrow + ox * C + c, acc, nv);
    }
    for (ox = fx1; ox < xb; ox++) edge(ox);
  }
  // Two output rows at once (rows[0 .. SH + KH) are the input rows of both; output row a reads rows + a·SH): each
  // input vector loaded feeds every pixel of both rows' tiles it touches (stride 1, 3×3: 24 loads per 72 FMAs instead
  // of 36), with 2·P accumulators and the KH·KW weights in registers (AVX-512's 32 registers only). Input rows in the
  // padding read `zrow` (zeros) so the tile loop has no branch per row; edge and leftover pixels check every tap and
  // read their weights from L1 (a lambda capturing the register array would force it to the stack).
  template <int KH, int KW, int SW, int SH, bool Full>
  ST_DW_FLATTEN static void tile2_block(const DwconvShape& s, const float* const* rows, const float* w,
                                        const float* bias, const ConvActVec<V>& act, float* y0, float* y1, size_t fx0,
                                        size_t fx1, size_t xa, size_t xb, size_t c, size_t nv, const float* zrow) {
    const size_t C = s.c;
    const R b = bias ? ld<Full>(bias + c, nv) : V::zero();
    auto one = [&](int a, size_t ox) {
      const float* const* ra = rows + a * SH;
      R acc = b;
      const ptrdiff_t ix = ptrdiff_t(ox * SW) - ptrdiff_t(s.pl);
      for (int ky = 0; ky < KH; ky++) {
        if (!ra[ky]) continue;
        for (int kx = 0; kx < KW; kx++) {
          const ptrdiff_t xx = ix + kx;
          if (xx < 0 || xx >= ptrdiff_t(s.iw)) continue;
          const R wk = ld<Full>(w + size_t(ky * KW + kx) * C + c, nv);
          acc = V::fmadd(ld<Full>(ra[ky] + size_t(xx) * C + c, nv), wk, acc);
        }
      }
      act.template apply<1>(&acc);
      st<Full>((a ? y1 : y0) + ox * C + c, acc, nv);
    };
    clip_columns(&fx0, &fx1, xa, xb);
    for (size_t ox = xa; ox < fx0; ox++) one(0, ox), one(1, ox);
    size_t ox = fx0;
    constexpr int NR = SH + KH;
    R wv[KH * KW];
    for (int i = 0; i < KH * KW; i++) wv[i] = ld<Full>(w + size_t(i) * C + c, nv);
    const float* rp[NR];
    for (int q = 0; q < NR; q++) rp[q] = rows[q] ? rows[q] : zrow;
    for (; ox + P <= fx1; ox += P) {
      R acc[2 * P];  // row 0's P pixels, then row 1's: one activation call for both (two calls were not inlined)
      R* a0 = acc;
      R* a1 = acc + P;
      for (int p = 0; p < 2 * P; p++) acc[p] = b;
      const size_t off = (ox * SW - s.pl) * C + c;
#pragma GCC unroll 8
      for (int q = 0; q < NR; q++) {
        const float* xp = rp[q] + off;
#pragma GCC unroll 16
        for (int j = 0; j < (P - 1) * SW + KW; j++) {
          R xv = ld<Full>(xp + size_t(j) * C, nv);
          dw_keep(xv);
#pragma GCC unroll 8
          for (int p = 0; p < P; p++) {
            const int kx = j - p * SW;
            if (kx < 0 || kx >= KW) continue;
            if (q < KH) a0[p] = V::fmadd(xv, wv[q * KW + kx], a0[p]);
            if (q >= SH) a1[p] = V::fmadd(xv, wv[(q - SH) * KW + kx], a1[p]);
          }
        }
      }
      act.template apply<2 * P>(acc);
      for (int p = 0; p < P; p++) st<Full>(y0 + (ox + p) * C + c, a0[p], nv);
      for (int p = 0; p < P; p++) st<Full>(y1 + (ox + p) * C + c, a1[p], nv);
    }
    for (; ox < xb; ox++) one(0, ox), one(1, ox);
  }
  template <int KH, int KW, int SW, int SH>
  static void pair_tiled(const DwconvShape& s, const float* const* rows, const float* w, const float* bias,
                         const ConvActVec<V>& act, float* y0, float* y1, size_t fx0, size_t fx1, size_t xa,
                         size_t xb, const float* zrow) {
    size_t c = 0;
    for (; c + W <= s.c; c += W)
      tile2_block<KH, KW, SW, SH, true>(s, rows, w, bias, act, y0, y1, fx0, fx1, xa, xb, c, W, zrow);
    if (c < s.c) tile2_block<KH, KW, SW, SH, false>(s, rows, w, bias, act, y0, y1, fx0, fx1, xa, xb, c, s.c - c, zrow);
  }
  using PairFn = void (*)(const DwconvShape&, const float* const*, const float*, const float*, const ConvActVec<V>&,
                          float*, float*, size_t, size_t, size_t, size_t, const float*);
  // Only where measured faster (one thread, best of 60, docs/conv.md): 3×3 stride 1, rows >= 12 pixels, 1.03–1.17×;
  // stride 2 gained nothing (the rows share one input row instead of two) and 7-pixel rows lost 10 % to the edges.
  static PairFn pair_for(const DwconvShape& s) {
    if (V::W < 16 || s.dw != 1 || s.dh != 1 || s.kh != 3 || s.kw != 3 || s.sh != 1 || s.sw != 1 || s.ow < 12)
      return nullptr;
    return &pair_tiled<3, 3, 1, 1>;
  }

  template <int KH, int KW, int SW>
  static void row_tiled(const DwconvShape& s, const float* const* rows, const float* w, const float* bias,
                        const ConvActVec<V>& act, float* yrow, size_t fx0, size_t fx1, size_t xa, size_t xb) {
    size_t c = 0;
    for (; c + W <= s.c; c += W) tile_block<KH, KW, SW, true>(s, rows, w, bias, act, yrow, fx0, fx1, xa, xb, c, W);
    if (c < s.c) tile_block<KH, KW, SW, false>(s, rows, w, bias, act, yrow, fx0, fx1, xa, xb, c, s.c - c);
  }

  using RowFn = void (*)(const DwconvShape&, const float* const*, const float*, const float*, const ConvActVec<V>&,
                         float*, size_t, size_t, size_t, size_t);
  static RowFn tiled_for(const DwconvShape& s) {
    if (s.dw != 1 || s.kh > 8) return nullptr;
    if (s.kh == 3 && s.kw == 3) return s.sw == 1 ? &row_tiled<3, 3, 1> : s.sw == 2 ? &row_tiled<3, 3, 2> : nullptr;
    if (s.kh == 5 && s.kw == 5) return s.sw == 1 ? &row_tiled<5, 5, 1> : s.sw == 2 ? &row_tiled<5, 5, 2> : nullptr;
    return nullptr;
  }

  // A 1×1 stride-1 unpadded conv is y = act(x·w + b) per pixel: the ONNX runtime's elementwise activations
  // (Sigmoid, HardSwish, ScalarAffine as 16-channel pixels) and channel affines. Pixels run flat, P at a time with
  // one channel vector's weight and bias in registers; chunks of kPwChunk pixels keep a chunk's channels in L1
  // between channel vectors. The per-pixel path spent most of its time on tap bounds (rec's 40×60 Sigmoid: ~10×).
  static constexpr size_t kPwChunk = 64;
  static bool pointwise(const DwconvShape& s) {
    return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.ih == s.oh && s.iw == s.ow;
  }
  template <bool Full>
  static void pointwise_block(const float* x, const float* w, const float* bias, const ConvActVec<V>& act, float* y,
                              size_t npx, size_t C, size_t c, size_t nv) {
    const R wv = ld<Full>(w + c, nv);
    const R b = bias ? ld<Full>(bias + c, nv) : V::zero();
    size_t i = 0;
    for (; i + P <= npx; i += P) {
      R acc[P];
      for (int p = 0; p < P; p++) acc[p] = V::fmadd(ld<Full>(x + (i + p) * C + c, nv), wv, b);
      act.template apply<P>(acc);
      for (int p = 0; p < P; p++) st<Full>(y + (i + p) * C + c, acc[p], nv);
    }
    for (; i < npx; i++) {
      R acc = V::fmadd(ld<Full>(x + i * C + c, nv), wv, b);
      act.template apply<1>(&acc);
      st<Full>(y + i * C + c, acc, nv);
    }
  }
  ST_DW_FLATTEN static void pointwise_rows(const DwconvShape& s, const float* x, const float* w, const float* bias,
                                           const ConvActVec<V>& act, float* y, size_t oy0, size_t oy1) {
    const size_t C = s.c, end = oy1 * s.ow;
    for (size_t p0 = oy0 * s.ow; p0 < end; p0 += kPwChunk) {
      const size_t n = end - p0 < kPwChunk ? end - p0 : kPwChunk;
      const float* xp = x + p0 * C;
      float* yp = y + p0 * C;
      size_t c = 0;
      for (; c + W <= C; c += W) pointwise_block<true>(xp, w, bias, act, yp, n, C, c, W);
      if (c < C) pointwise_block<false>(xp, w, bias, act, yp, n, C, c, C - c);
    }
  }

  static void nhwc(const DwconvShape& s, const float* x, const float* w, const float* bias, const ConvAct& a, float* y,
                   size_t oy0, size_t oy1) {
    const ConvActVec<V> act(a);
    if (pointwise(s)) return pointwise_rows(s, x, w, bias, act, y, oy0, oy1);
    const RowFn tiled = tiled_for(s);
    const PairFn pair = kDwconvRowPairs ? pair_for(s) : nullptr;
    // A row of zeros standing in for input rows in the padding, so the paired tile loop has no branch per row.
    thread_local std::vector<float> zeros;
    if (pair && zeros.size() < s.iw * s.c) zeros.assign(s.iw * s.c, 0.0f);
    size_t fx0, fx1;
    window_interior(s.ow, s.sw, s.pl, s.dw, s.kw, s.iw, &fx0, &fx1);
    const size_t strip = tiled ? strip_columns(s) : s.ow;
    for (size_t xa = 0; xa < s.ow;) {
      size_t xb = (xa < fx0 ? fx0 : xa) + strip;
      if (xb > s.ow) xb = s.ow;
      rows_strip(s, x, w, bias, act, y, oy0, oy1, tiled, pair, fx0, fx1, xa, xb, zeros.data());
      xa = xb;
    }
  }
  // Output columns per strip. A 3×3 row with column stride 2 and row stride 1 reads each input row for three output
  // rows; walked a whole row at a time (every channel vector over the row), the row's three input rows are gone from
  // L1 before the next output row needs them, and more so at 128 channels, where a channel vector's pixels fall in
  // 8 of L1's 64 sets. Strips of ~kStripBytes of input per row (at least two tiles) keep them there: 1.1–1.6× at
  // 48–128 channels, rec's 12×160×128 (1,2) layer 1.5× (docs/conv.md). Stride (1,1), (2,1) and 5×5 rows measured
  // slower in strips (0.8–0.95×: per-strip weight loads and shorter prefetch streams cost more than the L2 hits).
  static constexpr size_t kStripBytes = 8192, kStripRowsL1 = 32768;
  static size_t strip_columns(const DwconvShape& s) {
    const size_t px = s.c * sizeof(float);
    if (s.kh != 3 || s.kw != 3 || s.sh != 1 || s.sw != 2 || s.iw * px * s.kh <= kStripRowsL1) return s.ow;
    const size_t n = kStripBytes / (px * s.sw) / P * P;
    return n < size_t(2 * P) ? s.ow : n;  // one-tile strips (144+ channels) lost: 0.82× AVX2, 0.97× AVX-512
  }
  static void rows_strip(const DwconvShape& s, const float* x, const float* w, const float* bias,
                         const ConvActVec<V>& act, float* y, size_t oy0, size_t oy1, RowFn tiled, PairFn pair,
                         size_t fx0, size_t fx1, size_t xa, size_t xb, const float* zrow) {
    for (size_t oy = oy0; oy < oy1; oy++) {
      if (pair && oy + 1 < oy1) {
        const float* rows[8];
        const ptrdiff_t iy = ptrdiff_t(oy * s.sh) - ptrdiff_t(s.pt);
        for (size_t q = 0; q < s.sh + s.kh; q++) {
          const ptrdiff_t r = iy + ptrdiff_t(q);
          rows[q] = r >= 0 && r < ptrdiff_t(s.ih) ? x + size_t(r) * s.iw * s.c : nullptr;
        }
        pair(s, rows, w, bias, act, y + oy * s.ow * s.c, y + (oy + 1) * s.ow * s.c, fx0, fx1, xa, xb, zrow);
        oy++;
        continue;
      }
      if (!tiled) {
        for (size_t ox = xa; ox < xb; ox++) pixel(s, x, w, bias, act, y, oy, ox);
        continue;
      }
      const float* rows[8];
      const ptrdiff_t iy = ptrdiff_t(oy * s.sh) - ptrdiff_t(s.pt);
      for (size_t ky = 0; ky < s.kh; ky++) {
        const ptrdiff_t r = iy + ptrdiff_t(ky * s.dh);
        rows[ky] = r >= 0 && r < ptrdiff_t(s.ih) ? x + size_t(r) * s.iw * s.c : nullptr;
      }
      tiled(s, rows, w, bias, act, y + oy * s.ow * s.c, fx0, fx1, xa, xb);
    }
  }

  // NCHW: the input rows a band of output rows reads are copied once, zero-padded and split by column phase
  // (column j of phase q is padded column j·sw + q), so every tap of every stride is a contiguous vector load.
  static void nchw(const DwconvShape& s, const float* x, const float* w, float bias, const ConvAct& a, float* y,
                   size_t oy0, size_t oy1, float* scratch) {
    if (oy0 >= oy1) return;
    const ConvActVec<V> act(a);
    const size_t pw = s.ow + ((s.kw - 1) * s.dw) / s.sw, nr = (oy1 - oy0 - 1) * s.sh + (s.kh - 1) * s.dh + 1;
    const ptrdiff_t ry0 = ptrdiff_t(oy0 * s.sh) - ptrdiff_t(s.pt);
    for (size_t q = 0; q < s.sw; q++)
      for (size_t r = 0; r < nr; r++) {
        float* dst = scratch + (q * nr + r) * pw;
        const ptrdiff_t iy = ry0 + ptrdiff_t(r);
        if (iy < 0 || iy >= ptrdiff_t(s.ih)) {
          std::memset(dst, 0, pw * sizeof(float));
          continue;
        }
        const float* src = x + size_t(iy) * s.iw;
        if (s.sw == 1) {
          // Columns j − pl: zeros, then one copy of the row's in-range part, then zeros.
          const size_t lead = s.pl < pw ? s.pl : pw;
          std::memset(dst, 0, lead * sizeof(float));
          size_t n = pw - lead;
          if (n > s.iw) n = s.iw;
          std::memcpy(dst + lead, src, n * sizeof(float));
          std::memset(dst + lead + n, 0, (pw - lead - n) * sizeof(float));
        } else {
          window_phase_row(dst, pw, src, s.iw, s.sw, q, s.pl, 0.0f);
        }
      }
    // Each tap's offset in scratch (its phase plane, row and column shift), computed once: no division per vector.
    const size_t taps = s.kh * s.kw;
    size_t offs[64];
    float wt[64];
    size_t* off = taps <= 64 ? offs : new size_t[taps];
    float* wk = taps <= 64 ? wt : new float[taps];
    for (size_t ky = 0; ky < s.kh; ky++)
      for (size_t kx = 0; kx < s.kw; kx++) {
        off[ky * s.kw + kx] = (((kx * s.dw) % s.sw) * nr + ky * s.dh) * pw + (kx * s.dw) / s.sw;
        wk[ky * s.kw + kx] = w[ky * s.kw + kx];
      }
    const R vb = V::set1(bias);
    for (size_t oy = oy0; oy < oy1; oy++) {
      float* yr = y + oy * s.ow;
      const float* base = scratch + (oy - oy0) * s.sh * pw;
      size_t ox = 0;
      for (; ox + 2 * W <= s.ow; ox += 2 * W) {
        R a0 = vb, a1 = vb;
        for (size_t t = 0; t < taps; t++) {
          const float* src = base + off[t] + ox;
          const R wv = V::set1(wk[t]);
          a0 = V::fmadd(V::load(src), wv, a0);
          a1 = V::fmadd(V::load(src + W), wv, a1);
        }
        V::store(yr + ox, act(a0));
        V::store(yr + ox + W, act(a1));
      }
      for (; ox < s.ow; ox += W) {
        const size_t nv = s.ow - ox < W ? s.ow - ox : W;
        R a0 = vb;
        for (size_t t = 0; t < taps; t++) a0 = V::fmadd(V::load_partial(base + off[t] + ox, nv), V::set1(wk[t]), a0);
        V::store_partial(yr + ox, act(a0), nv);
      }
    }
    if (off != offs) delete[] off;
    if (wk != wt) delete[] wk;
  }

  static constexpr F32DwconvVariant make(const char* name, Isa isa) { return F32DwconvVariant{name, isa, &nhwc, &nchw}; }
};

}  // namespace
}  // namespace simdtensor
