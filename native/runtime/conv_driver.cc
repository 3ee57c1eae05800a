// f32 convolution driver (see conv_driver.h). Loop nest per task, as in the GEMM driver: pc (K blocks) → ic (MC
// pixel blocks: gather-pack A) → jr (NR weight panels) → ir (MR tiles), then the conv epilogue on each finished
// tile while it is still in L1.
#include "runtime/conv_driver.h"

#include <algorithm>

#include "runtime/aligned.h"
#include "runtime/conv_weights.h"
#include "runtime/gemm_driver.h"
#include "runtime/gemm_partition.h"
#include "runtime/pack.h"
#include "runtime/parallel.h"

namespace simdtensor {

namespace {
thread_local ScratchBuffer<float> t_conv_apack;
inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// Gathers rows [row0, row0 + rows) × inner [k0, k0 + kc) of the implicit im2col matrix of group g into MR-row
// panels (pack_a_f32 layout). Each inner run of one tap is a contiguous channel vector of one input pixel.
template <size_t MR>
void gather_a(const ConvShape& s, const float* x, size_t g, size_t row0, size_t rows, size_t k0, size_t kc,
              float* out) {
  const size_t cg = s.cg(), plane = s.oh * s.ow, kend = k0 + kc;
  // The first tap of the K block; later taps advance (ky, kx) without divisions (a 3-channel stem has 9 runs a row).
  const size_t tap0 = k0 / cg, c00 = k0 % cg, ky0 = tap0 / s.kw, kx0 = tap0 % s.kw;
  size_t b = row0 / plane, r = row0 % plane, oy = r / s.ow, ox = r % s.ow;
  for (size_t i = 0; i < rows; i++) {
    float* dst = out + (i / MR) * MR * kc + (i % MR);
    const float* xb = x + b * s.h * s.w * s.c + g * cg;
    const long by = long(oy * s.sh) - long(s.pad_t), bx = long(ox * s.sw) - long(s.pad_l);  // direct
    const long ty = long(oy + s.pad_t), tx = long(ox + s.pad_l);                          // transposed
    size_t k = k0, c0 = c00, ky = ky0, kx = kx0;
    while (k < kend) {
      const size_t run = std::min(cg - c0, kend - k);
      long iy, ix;
      bool ok;
      if (!s.transposed) {
        iy = by + long(ky * s.dh);
        ix = bx + long(kx * s.dw);
        ok = iy >= 0 && ix >= 0 && iy < long(s.h) && ix < long(s.w);
      } else {
        const long ny = ty - long(ky * s.dh), nx = tx - long(kx * s.dw);
        ok = ny >= 0 && nx >= 0 && ny % long(s.sh) == 0 && nx % long(s.sw) == 0;
        iy = ny / long(s.sh);
        ix = nx / long(s.sw);
        ok = ok && iy < long(s.h) && ix < long(s.w);
      }
      float* d = dst + (k - k0) * MR;
      if (ok) {
        const float* src = xb + (size_t(iy) * s.w + size_t(ix)) * s.c + c0;
        for (size_t t = 0; t < run; t++) d[t * MR] = src[t];
      } else {
        for (size_t t = 0; t < run; t++) d[t * MR] = 0.0f;
      }
      k += run;
      c0 = 0;
      if (++kx == s.kw) {
        kx = 0;
        ky++;
      }
    }
    if (++ox == s.ow) {
      ox = 0;
      if (++oy == s.oh) {
        oy = 0;
        b++;
      }
    }
  }
}

void gather_a_any(size_t mr, const ConvShape& s, const float* x, size_t g, size_t row0, size_t rows, size_t k0,
                  size_t kc, float* out) {
  switch (mr) {
    case 8: return gather_a<8>(s, x, g, row0, rows, k0, kc, out);
    case 6: return gather_a<6>(s, x, g, row0, rows, k0, kc, out);
    case 4: return gather_a<4>(s, x, g, row0, rows, k0, kc, out);
    default: break;
  }
  // Any other MR: gather each row as a 1-row panel, then interleave it (variants added later work unchanged).
  AlignedPtr<float> row = aligned_alloc_array<float>(kc);
  for (size_t i = 0; i < rows; i++) {
    gather_a<1>(s, x, g, row0 + i, 1, k0, kc, row.get());
    float* dst = out + (i / mr) * mr * kc + (i % mr);
    for (size_t p = 0; p < kc; p++) dst[p * mr] = row[p];
  }
}

struct ConvTask {
  size_t g, m0, m1, n0, n1;
};

void conv_task(const F32GemmVariant& v, const F32ConvVariant& e, const F32GemmBlocking& bl, const F32ConvArgs& a,
               const ConvTask& t) {
  const ConvShape& s = a.s;
  const size_t mr = v.mr, nr = v.nr, K = s.kdim(), cg = s.cg(), mg = s.mg(), ldc = s.m;
  const bool pointwise = conv_is_pointwise(s);
  // relu/gelu without a residual run in the GEMM microkernel's own epilogue; anything else (and the residual) in
  // the conv epilogue kernel, after the microkernel has added the bias.
  const bool post = a.residual != nullptr || a.ep.act > kConvActGelu;
  const int uact = post ? kActNone : a.ep.act;
  const float* gpanels = a.panels + t.g * conv_group_panel_floats(K, mg, nr);
  const size_t kc_max = bl.kc, mc_max = bl.mc;
  float* ap = t_conv_apack.get(ceil_div(std::min(mc_max, t.m1 - t.m0), mr) * mr * std::min(kc_max, K));
  for (size_t pc = 0; pc < K; pc += kc_max) {
    const size_t kc = std::min(kc_max, K - pc);
    const bool last = pc + kc == K;
    const unsigned flags = (pc == 0 ? 0u : kGemmAccumulate) | (last ? kGemmEpilogue : 0u);
    for (size_t ic = t.m0; ic < t.m1; ic += mc_max) {
      const size_t mc = std::min(mc_max, t.m1 - ic);
      if (pointwise)
        pack_a_f32(a.x + ic * s.c + t.g * cg + pc, s.c, mc, kc, mr, ap);
      else
        gather_a_any(mr, s, a.x, t.g, ic, mc, pc, kc, ap);
      for (size_t j = t.n0; j < t.n1; j += nr) {
        const float* bp = gpanels + (j / nr) * K * nr + pc * nr;
        const size_t nv = std::min(nr, t.n1 - j);
        const size_t col = t.g * mg + j;
        const float* bias = last && a.bias ? a.bias + col : nullptr;
        for (size_t i = 0; i < mc; i += mr) {
          const size_t mv = std::min(mr, mc - i);
          float* c = a.y + (ic + i) * ldc + col;
          v.ukernel(mv, nv, kc, ap + i * kc, bp, c, ldc, flags, bias, uact);
          if (last && post) e.epilogue(mv, nv, c, ldc, a.residual ? a.residual + (ic + i) * ldc + col : nullptr, ldc, a.ep);
        }
      }
    }
  }
}
}  // namespace

bool conv_is_pointwise(const ConvShape& s) {
  return !s.transposed && s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pad_t == 0 && s.pad_l == 0 &&
         s.oh == s.h && s.ow == s.w;
}

void f32_conv_run(const F32GemmVariant& v, const F32ConvVariant& e, const F32ConvArgs& a) {
  const ConvShape& s = a.s;
  const size_t P = s.pixels(), mg = s.mg(), K = s.kdim();
  if (P == 0 || s.m == 0) return;
  const F32GemmBlocking bl = f32_gemm_blocking(v);
  const size_t T = size_t(num_threads());
  const double flops = 2.0 * double(P) * double(K) * double(mg);  // per group
  GemmGrid grid{P, ceil_div(mg, v.nr) * v.nr, 1, 1};
  if (s.groups < T) grid = gemm_grid(P, mg, flops, v.mr, v.nr, bl.small_m, ceil_div(T, s.groups), kF32GemmMinParallelFlops);
  const size_t per_group = grid.tm * grid.tn;
  // Many small groups (depthwise-like): one task per group; below the parallel threshold, no threads at all.
  const bool serial = flops * double(s.groups) < kF32GemmMinParallelFlops;
  auto task = [&](size_t id) {
    const size_t g = id / per_group, r = id % per_group, im = r / grid.tn, in = r % grid.tn;
    const size_t m0 = im * grid.rows_per, m1 = std::min(P, m0 + grid.rows_per);
    const size_t n0 = in * grid.cols_per, n1 = std::min(mg, n0 + grid.cols_per);
    if (m0 < m1 && n0 < n1) conv_task(v, e, bl, a, ConvTask{g, m0, m1, n0, n1});
  };
  const size_t tasks = s.groups * per_group;
  if (serial)
    for (size_t id = 0; id < tasks; id++) task(id);
  else
    parallel_for(tasks, task);
}

void transpose_f32_batched(size_t batch, size_t rows, size_t cols, const float* in, float* out) {
  constexpr size_t B = 32;
  const size_t rb = ceil_div(rows, B);
  auto body = [&](size_t id) {
    const size_t b = id / rb, r0 = (id % rb) * B, r1 = std::min(rows, r0 + B);
    const float* src = in + b * rows * cols;
    float* dst = out + b * rows * cols;
    for (size_t c0 = 0; c0 < cols; c0 += B) {
      const size_t c1 = std::min(cols, c0 + B);
      for (size_t i = r0; i < r1; i++)
        for (size_t j = c0; j < c1; j++) dst[j * rows + i] = src[i * cols + j];
    }
  };
  const size_t tasks = batch * rb;
  if (double(batch) * double(rows) * double(cols) < 65536.0)
    for (size_t id = 0; id < tasks; id++) body(id);
  else
    parallel_for(tasks, body);
}

void f32_conv_run_nchw(const F32GemmVariant& v, const F32ConvVariant& e, const F32ConvArgs& a) {
  const ConvShape& s = a.s;
  if (s.pixels() == 0 || s.m == 0) return;
  const size_t in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  AlignedPtr<float> xt = aligned_alloc_array<float>(s.n * in_plane * s.c);
  AlignedPtr<float> yt = aligned_alloc_array<float>(s.n * out_plane * s.m);
  AlignedPtr<float> rt;
  transpose_f32_batched(s.n, s.c, in_plane, a.x, xt.get());
  F32ConvArgs b = a;
  b.x = xt.get();
  b.y = yt.get();
  if (a.residual) {
    rt = aligned_alloc_array<float>(s.n * out_plane * s.m);
    transpose_f32_batched(s.n, s.m, out_plane, a.residual, rt.get());
    b.residual = rt.get();
  }
  f32_conv_run(v, e, b);
  transpose_f32_batched(s.n, out_plane, s.m, yt.get(), a.y);
}

}  // namespace simdtensor
