// f32 convolution driver (see conv_driver.h). Loop nest per task, as in the GEMM driver: K blocks (whole taps) →
// MC pixel blocks (indirection buffer) → NR weight panels → MR tiles, then the conv epilogue on each finished tile
// while it is still in L1.
#include "runtime/conv/conv_driver.h"

#include <algorithm>
#include <vector>

#include "runtime/core/aligned.h"
#include "runtime/conv/conv_weights.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/core/gemm_partition.h"
#include "runtime/core/parallel.h"
#include "runtime/f32/transpose_driver.h"

namespace simdtensor {

namespace {
thread_local std::vector<const float*> t_conv_ptrs;
thread_local std::vector<float> t_conv_zero;
thread_local ScratchBuffer<float> t_conv_edge;  // zero-padded edge runs of one pixel block (conv_uses_row_taps)
inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// Inner-dimension blocking, in taps: about 1024 floats of K per block, as the f32 GEMM's kc (the B micro-panel
// streams from L2, the C tile is read-modified-written once per block).
constexpr size_t kConvKBlock = 1024;
// Output pixels per block: their A rows (mc × K floats) stay in L2 across the NR panels.
constexpr size_t kConvMcBlock = 48;

// The indirection buffer for rows [row0, row0 + rows) and taps [t0, t1) of group g: for MR-row tile q, tap t and
// row i, ptrs[(q·taps + t - t0)·MR + i] points at the cg input channels the tap reads, or at `zero` (padding).
// A direct conv's window that lies wholly inside the input (every pixel but a border band) takes its pointers as
// fixed offsets from the window's corner; only border pixels test each tap (this loop cost more than the
// microkernel on a 3-channel stem, where a tap reads 3 floats).
void build_ptrs(const ConvShape& s, const float* x, size_t g, size_t row0, size_t rows, size_t t0, size_t t1,
                size_t mr, const float* zero, const float** ptrs) {
  thread_local std::vector<size_t> t_off;
  const size_t cg = s.cg(), plane = s.oh * s.ow, taps = t1 - t0;
  const size_t tiles = ceil_div(rows, mr);
  for (size_t k = rows; k < tiles * mr; k++)
    for (size_t t = 0; t < taps; t++) ptrs[((k / mr) * taps + t) * mr + k % mr] = zero;
  if (conv_is_pointwise(s)) {  // one tap, and output row i reads input row i: no geometry per pixel
    const float* xr = x + row0 * s.c + g * cg;
    for (size_t i = 0; i < rows; i++) ptrs[i] = xr + i * s.c;
    return;
  }
  size_t b = row0 / plane, r = row0 % plane, oy = r / s.ow, ox = r % s.ow;
  const size_t ky0 = t0 / s.kw, kx0 = t0 % s.kw;
  const long ekh = long((s.kh - 1) * s.dh + 1), ekw = long((s.kw - 1) * s.dw + 1);
  if (!s.transposed) {
    if (t_off.size() < taps) t_off.resize(taps);
    size_t ky = ky0, kx = kx0;
    for (size_t t = 0; t < taps; t++) {
      t_off[t] = (ky * s.dh * s.w + kx * s.dw) * s.c;
      if (++kx == s.kw) {
        kx = 0;
        ky++;
      }
    }
  }
  const size_t* off = t_off.data();
  const float* xb = x + b * s.h * s.w * s.c + g * cg;
  size_t q = 0, lane = 0;  // MR tile and row within it of row i
  for (size_t i = 0; i < rows; i++) {
    const float** dst = ptrs + q * taps * mr + lane;
    const long by = long(oy * s.sh) - long(s.pad_t), bx = long(ox * s.sw) - long(s.pad_l);  // direct
    if (!s.transposed && by >= 0 && bx >= 0 && by + ekh <= long(s.h) && bx + ekw <= long(s.w)) {
      const float* corner = xb + (size_t(by) * s.w + size_t(bx)) * s.c;
      for (size_t t = 0; t < taps; t++) dst[t * mr] = corner + off[t];
    } else {
      const long ty = long(oy + s.pad_t), tx = long(ox + s.pad_l);  // transposed
      size_t ky = ky0, kx = kx0;
      for (size_t t = 0; t < taps; t++) {
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
        dst[t * mr] = ok ? xb + (size_t(iy) * s.w + size_t(ix)) * s.c : zero;
        if (++kx == s.kw) {
          kx = 0;
          ky++;
        }
      }
    }
    if (++lane == mr) {
      lane = 0;
      q++;
    }
    if (++ox == s.ow) {
      ox = 0;
      if (++oy == s.oh) {
        oy = 0;
        b++;
        xb += s.h * s.w * s.c;
      }
    }
  }
}

// Few channels a group (a 3-channel stem): a tap pointer feeds only cg FMAs a row, and building kh·kw of them per
// pixel cost as much as the microkernel. When the kw taps of a kernel row are adjacent input pixels of every channel
// (dw = 1, one group) they are one run of kw·c floats, so such a conv runs as kh taps of kw·cg channels: kh pointers
// a pixel, into the input itself except where the row run crosses the left or right edge (then into a zero-padded
// copy). The (ky, kx, ci) row order of the packed weights is the same either way. The whole K is one block.
constexpr size_t kConvRowTapsMaxCg = 4;
bool conv_uses_row_taps(const ConvShape& s) {
  return !s.transposed && !conv_is_pointwise(s) && s.kw > 1 && s.dw == 1 && s.groups == 1 &&
         s.cg() <= kConvRowTapsMaxCg && s.kdim() <= kConvKBlock;
}

// The indirection buffer of rows [row0, row0 + rows) in row-tap form: ptrs[(q·kh + ky)·MR + i] points at kw·c
// floats (the window's row ky), at `zero` (a padding row, at least kw·c zeros), or at a padded copy in `edge`
// (room for rows·kh runs).
void build_row_ptrs(const ConvShape& s, const float* x, size_t row0, size_t rows, size_t mr, const float* zero,
                    float* edge, const float** ptrs) {
  const size_t plane = s.oh * s.ow, run = s.kw * s.c, tiles = ceil_div(rows, mr);
  for (size_t k = rows; k < tiles * mr; k++)
    for (size_t t = 0; t < s.kh; t++) ptrs[((k / mr) * s.kh + t) * mr + k % mr] = zero;
  size_t b = row0 / plane, oy = (row0 % plane) / s.ow, ox = row0 % s.ow;
  const float* xb = x + b * s.h * s.w * s.c;
  for (size_t i = 0; i < rows; i++) {
    const float** dst = ptrs + (i / mr) * s.kh * mr + i % mr;
    const long by = long(oy * s.sh) - long(s.pad_t), bx = long(ox * s.sw) - long(s.pad_l);
    const bool inx = bx >= 0 && bx + long(s.kw) <= long(s.w);
    for (size_t ky = 0; ky < s.kh; ky++) {
      const long iy = by + long(ky * s.dh);
      const float* p = zero;
      if (iy >= 0 && iy < long(s.h)) {
        const float* xr = xb + size_t(iy) * s.w * s.c;
        if (inx) {
          p = xr + size_t(bx) * s.c;
        } else {
          float* d = edge;
          edge += run;
          for (size_t kx = 0; kx < s.kw; kx++) {
            const long ix = bx + long(kx);
            for (size_t ci = 0; ci < s.c; ci++) d[kx * s.c + ci] = ix >= 0 && ix < long(s.w) ? xr[size_t(ix) * s.c + ci] : 0.0f;
          }
          p = d;
        }
      }
      dst[ky * mr] = p;
    }
    if (++ox == s.ow) {
      ox = 0;
      if (++oy == s.oh) {
        oy = 0;
        xb += s.h * s.w * s.c;
      }
    }
  }
}

struct ConvTask {
  size_t g, m0, m1, n0, n1;
};

void conv_task(const F32ConvVariant& v, const F32ConvArgs& a, const ConvTask& t) {
  const ConvShape& s = a.s;
  const size_t mr = v.mr, nr = v.nr, cg = s.cg(), mg = s.mg(), ldc = s.m, K = s.kdim();
  const bool row_taps = conv_uses_row_taps(s);
  const size_t taps = s.kh * s.kw, tb = row_taps ? taps : std::max<size_t>(1, kConvKBlock / cg);
  const size_t mc_max = std::max(mr, (kConvMcBlock / mr) * mr);
  // relu/gelu without a residual run in the microkernel's own epilogue; anything else (and the residual) in the
  // conv epilogue kernel, after the microkernel has added the bias.
  const bool post = a.residual != nullptr || a.ep.act > kConvActGelu;
  const int uact = post ? kActNone : a.ep.act;
  const float* gpanels = a.panels + t.g * conv_group_panel_floats(K, mg, nr);
  const size_t zlen = row_taps ? s.kw * cg : cg;
  if (t_conv_zero.size() < zlen) t_conv_zero.assign(zlen, 0.0f);
  const float* zero = t_conv_zero.data();
  const size_t mc0 = std::min(mc_max, t.m1 - t.m0), tiles0 = ceil_div(mc0, mr);
  t_conv_ptrs.resize(tiles0 * mr * (row_taps ? s.kh : std::min(tb, taps)));
  const float** ptrs = t_conv_ptrs.data();
  float* edge = row_taps ? t_conv_edge.get(mc0 * K) : nullptr;
  for (size_t t0 = 0; t0 < taps; t0 += tb) {
    const size_t t1 = std::min(taps, t0 + tb);
    const bool last = t1 == taps;
    const unsigned flags = (t0 == 0 ? 0u : kGemmAccumulate) | (last ? kGemmEpilogue : 0u);
    // The microkernel's view: nt taps of kc channels (row taps: kh taps of kw·cg).
    const size_t nt = row_taps ? s.kh : t1 - t0, kc = row_taps ? s.kw * cg : cg;
    for (size_t ic = t.m0; ic < t.m1; ic += mc_max) {
      const size_t mc = std::min(mc_max, t.m1 - ic);
      if (row_taps) build_row_ptrs(s, a.x, ic, mc, mr, zero, edge, ptrs);
      else build_ptrs(s, a.x, t.g, ic, mc, t0, t1, mr, zero, ptrs);
      for (size_t j = t.n0; j < t.n1; j += nr) {
        const float* bp = gpanels + (j / nr) * K * nr + t0 * cg * nr;
        const size_t nv = std::min(nr, t.n1 - j);
        const size_t col = t.g * mg + j;
        const float* bias = last && a.bias ? a.bias + col : nullptr;
        for (size_t i = 0; i < mc; i += mr) {
          const size_t mv = std::min(mr, mc - i);
          float* c = a.y + (ic + i) * ldc + col;
          v.igemm(mv, nv, nt, kc, ptrs + (i / mr) * nt * mr, bp, c, ldc, flags, bias, uact);
          if (last && post) v.epilogue(mv, nv, c, ldc, a.residual ? a.residual + (ic + i) * ldc + col : nullptr, ldc, a.ep);
        }
      }
    }
  }
}
// Transposed convolution with a stride > 1, split by output phase: output pixels (oy, rx + sw·j) of one output row
// and one column phase rx read the same subset of taps (those with oy + padT − ky·dH ≡ 0 mod sH and likewise in x),
// so each MR-pixel tile runs the microkernel once per valid tap (K = C/groups each) instead of over every tap with
// zero vectors for the rest (3/4 of them at stride 2). The tile's rows are sw·m floats apart in the output.
void conv_transposed_row(const F32ConvVariant& v, const F32ConvArgs& a, size_t g, size_t row, size_t n0, size_t n1) {
  const ConvShape& s = a.s;
  const size_t mr = v.mr, nr = v.nr, cg = s.cg(), mg = s.mg(), K = s.kdim();
  const size_t b = row / s.oh, oy = row % s.oh, ldc = s.sw * s.m;
  const bool post = a.residual != nullptr || a.ep.act > kConvActGelu;
  const int uact = post ? kActNone : a.ep.act;
  const float* gpanels = a.panels + g * conv_group_panel_floats(K, mg, nr);
  if (t_conv_zero.size() < cg) t_conv_zero.assign(cg, 0.0f);
  const float* zero = t_conv_zero.data();
  const float* xb = a.x + b * s.h * s.w * s.c + g * cg;
  // Taps valid for this output row: (ky, iy).
  size_t kys[64], iys[64], nky = 0;
  for (size_t ky = 0; ky < s.kh && nky < 64; ky++) {
    const long ny = long(oy + s.pad_t) - long(ky * s.dh);
    if (ny >= 0 && ny % long(s.sh) == 0 && ny / long(s.sh) < long(s.h)) {
      kys[nky] = ky;
      iys[nky++] = size_t(ny / long(s.sh));
    }
  }
  t_conv_ptrs.resize(s.kh * s.kw * mr);
  const float** ptrs = t_conv_ptrs.data();
  size_t taps[4096];
  for (size_t rx = 0; rx < s.sw && rx < s.ow; rx++) {
    const size_t count = (s.ow - rx + s.sw - 1) / s.sw;
    // Valid kx for this phase, paired with each valid ky.
    size_t nt = 0;
    for (size_t q = 0; q < nky; q++)
      for (size_t kx = 0; kx < s.kw && nt < 4096; kx++) {
        const long nx = long(rx + s.pad_l) - long(kx * s.dw);
        if (((nx % long(s.sw)) + long(s.sw)) % long(s.sw) == 0) taps[nt++] = q * s.kw + kx;  // q indexes kys/iys
      }
    for (size_t j0 = 0; j0 < count; j0 += mr) {
      const size_t mv = std::min(mr, count - j0);
      for (size_t t = 0; t < nt; t++) {
        const size_t q = taps[t] / s.kw, kx = taps[t] % s.kw;
        for (size_t i = 0; i < mr; i++) {
          const float* p = zero;
          if (i < mv) {
            const long nx = long(rx + s.sw * (j0 + i) + s.pad_l) - long(kx * s.dw);
            if (nx >= 0 && nx / long(s.sw) < long(s.w)) p = xb + (iys[q] * s.w + size_t(nx / long(s.sw))) * s.c;
          }
          ptrs[t * mr + i] = p;
        }
      }
      const size_t pix0 = row * s.ow + rx + s.sw * j0;
      for (size_t j = n0; j < n1; j += nr) {
        const float* panel = gpanels + (j / nr) * K * nr;
        const size_t nv = std::min(nr, n1 - j), col = g * mg + j;
        float* c = a.y + pix0 * s.m + col;
        const float* bias = a.bias ? a.bias + col : nullptr;
        if (nt == 0) v.igemm(mv, nv, 0, cg, ptrs, panel, c, ldc, kGemmEpilogue, bias, uact);
        for (size_t t = 0; t < nt; t++) {
          const size_t tap = kys[taps[t] / s.kw] * s.kw + taps[t] % s.kw;
          const unsigned flags = (t == 0 ? 0u : kGemmAccumulate) | (t + 1 == nt ? kGemmEpilogue : 0u);
          v.igemm(mv, nv, 1, cg, ptrs + t * mr, panel + tap * cg * nr, c, ldc, flags, t + 1 == nt ? bias : nullptr, uact);
        }
        if (post) v.epilogue(mv, nv, c, ldc, a.residual ? a.residual + pix0 * s.m + col : nullptr, ldc, a.ep);
      }
    }
  }
}

// The phase split pays one C tile pass per tap: worth it when a tap's K (channels per group) is long enough.
bool use_phase_split(const ConvShape& s) {
  return s.transposed && (s.sh > 1 || s.sw > 1) && s.cg() >= 16 && s.kh <= 64 && s.kh * s.kw <= 4096;
}
}  // namespace

bool conv_is_pointwise(const ConvShape& s) {
  return !s.transposed && s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pad_t == 0 && s.pad_l == 0 &&
         s.oh == s.h && s.ow == s.w;
}

void f32_conv_run(const F32ConvVariant& v, const F32ConvArgs& a) {
  const ConvShape& s = a.s;
  const size_t P = s.pixels(), mg = s.mg(), K = s.kdim();
  if (P == 0 || s.m == 0) return;
  const size_t T = size_t(num_threads());
  const double flops = 2.0 * double(P) * double(K) * double(mg);  // per group
  if (use_phase_split(s)) {
    // Tasks: (group, output row, channel chunk); channel chunks only when rows are fewer than ~2 per thread.
    const size_t rows = s.n * s.oh, panels = ceil_div(mg, v.nr);
    const size_t tn = std::max<size_t>(1, std::min(panels, ceil_div(2 * T, rows * s.groups)));
    const size_t cols_per = ceil_div(panels, tn) * v.nr;
    auto task = [&](size_t id) {
      const size_t g = id / (rows * tn), r = id % (rows * tn), row = r / tn, n0 = (r % tn) * cols_per;
      if (n0 < mg) conv_transposed_row(v, a, g, row, n0, std::min(mg, n0 + cols_per));
    };
    const size_t tasks = s.groups * rows * tn;
    if (T == 1 || flops * double(s.groups) < kF32ConvMinParallelFlops)
      for (size_t id = 0; id < tasks; id++) task(id);
    else
      parallel_for(tasks, task);
    return;
  }
  GemmGrid grid{P, ceil_div(mg, v.nr) * v.nr, 1, 1};
  // Split pixels (and channels) within a group only when there are fewer groups than threads.
  if (s.groups < T) grid = gemm_grid(P, mg, flops, v.mr, v.nr, 2 * v.mr, ceil_div(T, s.groups), kF32ConvMinParallelFlops);
  const size_t per_group = grid.tm * grid.tn;
  auto task = [&](size_t id) {
    const size_t g = id / per_group, r = id % per_group, im = r / grid.tn, in = r % grid.tn;
    const size_t m0 = im * grid.rows_per, m1 = std::min(P, m0 + grid.rows_per);
    const size_t n0 = in * grid.cols_per, n1 = std::min(mg, n0 + grid.cols_per);
    if (m0 < m1 && n0 < n1) conv_task(v, a, ConvTask{g, m0, m1, n0, n1});
  };
  const size_t tasks = s.groups * per_group;
  // Below the parallel threshold (the whole op, all groups), no threads at all.
  if (flops * double(s.groups) < kF32ConvMinParallelFlops)
    for (size_t id = 0; id < tasks; id++) task(id);
  else
    parallel_for(tasks, task);
}

namespace {
// NCHW staging buffers, reused per calling thread: a fresh multi-MiB allocation per call costs more in page faults
// on first touch than the transposes themselves.
thread_local ScratchBuffer<float> t_nchw_x, t_nchw_y, t_nchw_r;
}  // namespace

void f32_conv_run_nchw(const F32ConvVariant& v, const F32ConvArgs& a) {
  const ConvShape& s = a.s;
  if (s.pixels() == 0 || s.m == 0) return;
  const size_t in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  float* xt = t_nchw_x.get(s.n * in_plane * s.c);
  float* yt = t_nchw_y.get(s.n * out_plane * s.m);
  f32_transpose_batched(s.n, s.c, in_plane, a.x, xt);
  F32ConvArgs b = a;
  b.x = xt;
  b.y = yt;
  if (a.residual) {
    float* rt = t_nchw_r.get(s.n * out_plane * s.m);
    f32_transpose_batched(s.n, s.m, out_plane, a.residual, rt);
    b.residual = rt;
  }
  f32_conv_run(v, b);
  f32_transpose_batched(s.n, out_plane, s.m, yt, a.y);
}

}  // namespace simdtensor
