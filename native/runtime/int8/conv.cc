// int8 convolution (see conv.h).
#include "runtime/int8/conv.h"

#include <algorithm>
#include <cstring>

#include "cpu/dispatch.h"
#include "runtime/core/aligned.h"
#include "runtime/conv/conv_driver.h"
#include "runtime/core/parallel.h"
#include "runtime/f32/transpose_driver.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<uint8_t> t_s8_cols, t_s8_x, t_s8_y;
thread_local ScratchBuffer<float> t_s8_f32, t_s8_res;

size_t out_elem_bytes(int kind) { return kind == kS8OutS8 || kind == kS8OutU8 ? 1 : 4; }

// im2col rows [row0, row0 + rows) into cols (row stride K = kh·kw·c, (ky, kx, c) order), padding = pad_byte.
void gather_rows(const ConvShape& s, const uint8_t* x, uint8_t pad, size_t row0, size_t rows, uint8_t* cols) {
  const size_t plane = s.oh * s.ow, K = s.kdim();
  parallel_for_range(rows, 64, 1, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; i++) {
      const size_t pix = row0 + i, b = pix / plane, r = pix % plane, oy = r / s.ow, ox = r % s.ow;
      uint8_t* dst = cols + i * K;
      for (size_t ky = 0; ky < s.kh; ky++)
        for (size_t kx = 0; kx < s.kw; kx++, dst += s.c) {
          const long iy = long(oy * s.sh + ky * s.dh) - long(s.pad_t), ix = long(ox * s.sw + kx * s.dw) - long(s.pad_l);
          if (iy < 0 || ix < 0 || iy >= long(s.h) || ix >= long(s.w))
            std::memset(dst, pad, s.c);
          else
            std::memcpy(dst, x + ((b * s.h + size_t(iy)) * s.w + size_t(ix)) * s.c, s.c);
        }
    }
  });
}

// out[b][j][i] = in[b][i][j] for elements of `es` bytes.
void transpose_bytes(size_t batch, size_t rows, size_t cols, size_t es, const uint8_t* in, uint8_t* out) {
  parallel_for_range(batch * rows, 64, 1, [&](size_t r0, size_t r1) {
    for (size_t br = r0; br < r1; br++) {
      const size_t b = br / rows, i = br % rows;
      const uint8_t* src = in + (b * rows + i) * cols * es;
      uint8_t* dst = out + b * rows * cols * es + i * es;
      for (size_t j = 0; j < cols; j++) std::memcpy(dst + j * rows * es, src + j * es, es);
    }
  });
}
}  // namespace

namespace {
// The GEMM of output rows [r0, r0 + rows) (A at `a`, row stride lda) into `out` (rows × m of g.out's type), then the
// post epilogue on those rows.
void gemm_rows(const S8GemmVariant& v, const ConvShape& s, S8GemmArgs g, const void* a, size_t lda, size_t r0,
               size_t rows, const S8ConvPost& post) {
  const size_t es = out_elem_bytes(g.out);
  uint8_t* c = static_cast<uint8_t*>(g.c) + r0 * s.m * es;
  // Per-row (per-pixel) activation parameters follow the rows (stride 1); per-tensor ones (stride 0) stay put.
  if (g.a_zero) g.a_zero += r0 * g.a_zero_stride;
  if (g.a_scale) g.a_scale += r0 * g.a_scale_stride;
  g.m = rows;
  g.a = a;
  g.lda = lda;
  if (!post.needed()) {
    g.c = c;
    if (post.act != kConvActNone) {  // else g.act's own (none / relu / gelu) stays
      g.act = post.act;
      g.act_a = post.p0;
      g.act_b = post.p1;
    }
    s8_gemm_run(v, g);
    return;
  }
  const bool to_bytes = g.out == kS8OutS8 || g.out == kS8OutU8;
  float* f = to_bytes ? t_s8_f32.get(rows * s.m) : reinterpret_cast<float*>(c);
  const int out_kind = g.out;
  g.out = kS8OutF32;
  g.act = kConvActNone;
  g.c = f;
  s8_gemm_run(v, g);
  const F32ConvVariant& ev = f32_conv_table.select();
  const QuantizeVariant& qv = quantize_table.select();
  F32ConvEpilogue ep;
  ep.act = post.act, ep.p0 = post.p0, ep.p1 = post.p1;
  const float* res = post.residual ? post.residual + r0 * s.m : nullptr;
  const float inv = to_bytes ? 1.0f / g.out_scale : 1.0f;
  const int32_t qmin = out_kind == kS8OutS8 ? -128 : 0, qmax = out_kind == kS8OutS8 ? 127 : 255;
  parallel_for_range(rows, std::max<size_t>(16, 8192 / std::max<size_t>(s.m, 1)), 1, [&](size_t i0, size_t i1) {
    float* fi = f + i0 * s.m;
    ev.epilogue(i1 - i0, s.m, fi, s.m, res ? res + i0 * s.m : nullptr, s.m, ep);
    if (to_bytes) qv.quantize((i1 - i0) * s.m, fi, inv, g.out_zero, qmin, qmax, c + i0 * s.m);
  });
}
}  // namespace

void s8_conv_run(const S8GemmVariant& v, const ConvShape& s, const uint8_t* x, uint8_t pad_byte, S8GemmArgs g,
                 const S8ConvPost& post) {
  const size_t P = s.pixels(), K = s.kdim();
  if (P == 0 || s.m == 0) return;
  // Per-row activation parameters are per input pixel: only a pointwise conv's GEMM rows are input pixels.
  if ((g.a_zero_stride || g.a_scale_stride) && !conv_is_pointwise(s)) return;
  g.n = s.m;
  g.k = K;
  g.ldc = s.m;
  if (conv_is_pointwise(s)) {
    if (!post.needed()) {
      gemm_rows(v, s, g, x, s.c, 0, P, post);
      return;
    }
    // Slices of ~256 KiB of f32 output, so the epilogue reads what the GEMM just wrote from L2.
    const size_t chunk = std::max<size_t>(64, (size_t(1) << 16) / std::max<size_t>(s.m, 1));
    for (size_t r0 = 0; r0 < P; r0 += chunk)
      gemm_rows(v, s, g, x + r0 * s.c, s.c, r0, std::min(chunk, P - r0), post);
    return;
  }
  // Slices of ~1 MiB of im2col rows (at least 64): each one's GEMM still splits over the threads.
  const size_t chunk = std::max<size_t>(64, (size_t(1) << 20) / std::max<size_t>(K, 1));
  uint8_t* cols = t_s8_cols.get(std::min(chunk, P) * K);
  for (size_t r0 = 0; r0 < P; r0 += chunk) {
    const size_t rows = std::min(chunk, P - r0);
    gather_rows(s, x, pad_byte, r0, rows, cols);
    gemm_rows(v, s, g, cols, K, r0, rows, post);
  }
}

void s8_conv_run_nchw(const S8GemmVariant& v, const ConvShape& s, const uint8_t* x, uint8_t pad_byte, S8GemmArgs g,
                      const S8ConvPost& post) {
  if (s.pixels() == 0 || s.m == 0) return;
  const size_t es = out_elem_bytes(g.out), in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  uint8_t* xt = t_s8_x.get(s.n * in_plane * s.c);
  uint8_t* yt = t_s8_y.get(s.n * out_plane * s.m * es);
  transpose_bytes(s.n, s.c, in_plane, 1, x, xt);
  uint8_t* y = static_cast<uint8_t*>(g.c);
  g.c = yt;
  S8ConvPost p = post;
  if (post.residual) {
    float* rt = t_s8_res.get(s.n * out_plane * s.m);
    f32_transpose_batched(s.n, s.m, out_plane, post.residual, rt);
    p.residual = rt;
  }
  s8_conv_run(v, s, xt, pad_byte, g, p);
  if (es == 4)  // int32 and f32 outputs: the f32 transpose kernel moves 4-byte words bit for bit
    f32_transpose_batched(s.n, out_plane, s.m, reinterpret_cast<const float*>(yt), reinterpret_cast<float*>(y));
  else
    transpose_bytes(s.n, out_plane, s.m, es, yt, y);
}

}  // namespace simdtensor
