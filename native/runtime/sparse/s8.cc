// int8 sparse weights and driver. Build: validate through the f32 path, densify one row at a time into groups of
// 4. Run: quantize x per row to u8 (quantize_rows_dynamic, the dense int8 path's own routine), then row kernels
// (small M) or xt kernels over [groups][M tile] words, exactly like the f32 driver.
#include "runtime/sparse/s8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/dispatch.h"
#include "kernels/quantize/quantize.h"
#include "runtime/core/aligned.h"
#include "runtime/core/parallel.h"
#include "runtime/int8/linear.h"

namespace simdtensor {

namespace {

thread_local ScratchBuffer<uint8_t> t_xq;
thread_local ScratchBuffer<float> t_sx;
thread_local ScratchBuffer<int32_t> t_zx;
thread_local ScratchBuffer<uint8_t> t_bad;
thread_local ScratchBuffer<int32_t> t_acc;
thread_local ScratchBuffer<int32_t> t_xq4t;
thread_local ScratchBuffer<float> t_lanes;
thread_local ScratchBuffer<float> t_outt;

constexpr size_t kRowsPerTask = 64;
constexpr size_t kRowsPerTaskRow = 256;

template <class F>
void run_tasks(size_t n, double work, F&& f) {
  if (work < 2e5 || num_threads() == 1) {
    for (size_t i = 0; i < n; i++) f(i);
  } else {
    parallel_for(n, f);
  }
}

}  // namespace

std::unique_ptr<S8SparseWeights> S8SparseWeights::create(const SparseInput& in, const float* scales, size_t n_scales,
                                                         std::string* err) {
  for (size_t i = 0; i < in.val_len; i++) {
    const float v = in.val[i];
    if (!(v >= -128.0f && v <= 127.0f) || v != std::floor(v)) {
      *err = "values[" + std::to_string(i) + "] (" + std::to_string(v) + ") is not an int8 value";
      return nullptr;
    }
  }
  if (n_scales != in.n) {
    *err = "scales has " + std::to_string(n_scales) + " values, needs one per row (" + std::to_string(in.n) + ")";
    return nullptr;
  }
  for (size_t i = 0; i < n_scales; i++)
    if (!(scales[i] > 0.0f) || !std::isfinite(scales[i])) {
      *err = "scales[" + std::to_string(i) + "] must be positive and finite, got " + std::to_string(scales[i]);
      return nullptr;
    }
  std::unique_ptr<F32SparseWeights> f = F32SparseWeights::create(in, err);
  if (!f) return nullptr;
  std::unique_ptr<S8SparseWeights> w(new S8SparseWeights());
  const size_t n = in.n, k = in.k, G = (k + 3) / 4;
  S8SparseView& v = w->view_;
  v.n = n;
  v.k = k;
  v.groups = G;
  v.idx16 = G <= 65536;
  w->ptr_.assign(n + 1, 0);
  w->rowsum_.assign(n, 0);
  w->scale_.assign(scales, scales + n);
  // Densify from the validated f32 copy (every format), then keep each row's 4-column groups holding a nonzero.
  // Offline path: one dense f32 copy of the matrix is fine here.
  std::vector<float> dense(n * k);
  f->to_dense(dense.data());
  for (size_t r = 0; r < n; r++) {
    const float* row = dense.data() + r * k;
    int32_t rs = 0;
    for (size_t g = 0; g < G; g++) {
      uint32_t word = 0;
      bool any = false;
      for (size_t b = 0; b < 4 && 4 * g + b < k; b++) {
        const int32_t q = int32_t(row[4 * g + b]);
        any |= q != 0;
        w->nonzeros_ += q != 0;
        rs += q;
        word |= uint32_t(uint8_t(int8_t(q))) << (8 * b);
      }
      if (!any) continue;
      if (v.idx16) w->gidx16_.push_back(uint16_t(g));
      else w->gidx32_.push_back(uint32_t(g));
      w->gval_.push_back(int32_t(word));
    }
    w->rowsum_[r] = rs;
    w->ptr_[r + 1] = uint32_t(w->gval_.size());
  }
  v.ptr = w->ptr_.data();
  v.gidx = v.idx16 ? static_cast<const void*>(w->gidx16_.data()) : static_cast<const void*>(w->gidx32_.data());
  v.gval = w->gval_.data();
  v.rowsum = w->rowsum_.data();
  v.scale = w->scale_.data();
  return w;
}

double S8SparseWeights::work_density() const {
  return view_.n && view_.k ? double(view_.stored_groups()) * 4.0 / (double(view_.n) * double(view_.k)) : 0.0;
}

size_t S8SparseWeights::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t b = ptr_.size() * 4 + gidx16_.size() * 2 + gidx32_.size() * 4 + gval_.size() * 4 + rowsum_.size() * 4 +
             scale_.size() * 4;
  if (dense_) b += dense_->bytes();
  return b;
}

bool S8SparseWeights::has_dense() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dense_ != nullptr;
}

void S8SparseWeights::to_dense(int8_t* out) const {
  const S8SparseView& v = view_;
  if (v.n == 0 || v.k == 0) return;  // nothing to write (out may be null: an empty array)
  std::memset(out, 0, v.n * v.k);
  for (size_t r = 0; r < v.n; r++)
    for (size_t j = v.ptr[r]; j < v.ptr[r + 1]; j++) {
      const size_t g = v.idx16 ? size_t(static_cast<const uint16_t*>(v.gidx)[j]) : size_t(static_cast<const uint32_t*>(v.gidx)[j]);
      for (size_t b = 0; b < 4 && 4 * g + b < v.k; b++) out[r * v.k + 4 * g + b] = int8_t(uint32_t(v.gval[j]) >> (8 * b));
    }
}

std::shared_ptr<PackedS8Weights> S8SparseWeights::dense_packed(const S8GemmVariant& gv) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!dense_) {
    std::vector<int8_t> d(view_.n * view_.k);
    to_dense(d.data());
    dense_ = std::make_shared<PackedS8Weights>(d.data(), false, view_.k, true, view_.k, view_.n, nullptr, 0,
                                               scale_.data(), view_.n, gv.nr, gv.kstep, gv.kgroup);
  }
  return dense_;
}

SpmmPath s8_spmm_auto_path(const S8SpmmVariant& v, size_t m) {
  (void)v;
  // Measured (AVX-512 VNNI, K = N = 4096): the gather row kernel wins only at M = 1.
  return m <= 1 ? SpmmPath::kRow : SpmmPath::kXt;
}

const char* s8_spmm_run(const S8SpmmVariant& v, const S8SpmmArgs& a, SpmmPath path) {
  const S8SparseView& w = *a.w;
  if (path == SpmmPath::kAuto) path = s8_spmm_auto_path(v, a.m);
  const char* name = path == SpmmPath::kRow ? v.row_name : v.xt_name;
  const size_t M = a.m, G = w.groups, ldq = 4 * G;
  if (M == 0 || w.n == 0) return name;
  uint8_t* xq = t_xq.get(M * ldq);
  float* sx = t_sx.get(M);
  int32_t* zx = t_zx.get(M);
  uint8_t* bad = t_bad.get(M);
  quantize_rows_dynamic(quantize_table.select(), M, w.k, a.x, a.ldx, true, xq, ldq, sx, zx, bad);
  if (ldq > w.k)  // k == 0: no groups, xq may be null
    for (size_t i = 0; i < M; i++) std::memset(xq + i * ldq + w.k, 0, ldq - w.k);  // weights are 0 there
  const double work = double(w.stored_groups()) * 4.0 * double(M);
  if (path == SpmmPath::kRow) {
    int32_t* acc = t_acc.get(M * w.n);
    const size_t chunks = (w.n + kRowsPerTaskRow - 1) / kRowsPerTaskRow;
    run_tasks(chunks, work, [&](size_t c) {
      const size_t r0 = c * kRowsPerTaskRow, r1 = std::min(w.n, r0 + kRowsPerTaskRow);
      for (size_t i0 = 0; i0 < M; i0 += 4)
        v.row(w, r0, r1, xq + i0 * ldq, ldq, std::min<size_t>(4, M - i0), acc + i0 * w.n, w.n);
      for (size_t i = 0; i < M; i++)
        v.row_epilogue(a.out + i * a.ldo + r0, acc + i * w.n + r0, r1 - r0, sx[i], sx[i] * float(zx[i]), w.scale + r0,
                       w.rowsum + r0, a.bias ? a.bias + r0 : nullptr, a.act);
    });
    return name;
  }
  const size_t W = v.w, MT = v.max_nv * W, tiles = (M + MT - 1) / MT;
  auto tile_nv = [&](size_t t) { return (std::min(MT, M - t * MT) + W - 1) / W; };
  std::vector<size_t> off(tiles + 1, 0);
  for (size_t t = 0; t < tiles; t++) off[t + 1] = off[t] + G * tile_nv(t) * W;
  int32_t* xq4t = t_xq4t.get(off[tiles]);
  float* lanes = t_lanes.get(2 * tiles * MT);  // per tile: sx lanes, then sx·zx lanes
  for (size_t t = 0; t < tiles; t++) {
    const size_t m0 = t * MT, mt = std::min(MT, M - m0), ld = tile_nv(t) * W;
    int32_t* dst = xq4t + off[t];
    for (size_t g = 0; g < G; g++) {
      for (size_t i = 0; i < mt; i++) std::memcpy(dst + g * ld + i, xq + (m0 + i) * ldq + 4 * g, 4);
      for (size_t i = mt; i < ld; i++) dst[g * ld + i] = 0;
    }
    float* ls = lanes + 2 * t * MT;
    for (size_t i = 0; i < ld; i++) {
      ls[i] = i < mt ? sx[m0 + i] : 0.0f;
      ls[MT + i] = i < mt ? sx[m0 + i] * float(zx[m0 + i]) : 0.0f;
    }
  }
  const size_t chunks = (w.n + kRowsPerTask - 1) / kRowsPerTask;
  run_tasks(tiles * chunks, work, [&](size_t task) {
    const size_t t = task / chunks, r0 = (task % chunks) * kRowsPerTask, r1 = std::min(w.n, r0 + kRowsPerTask);
    const size_t nv = tile_nv(t), ld = nv * W, m0 = t * MT, mt = std::min(MT, M - m0);
    float* outt = t_outt.get(kRowsPerTask * ld);
    const float* ls = lanes + 2 * t * MT;
    v.xt(w, r0, r1, xq4t + off[t], nv, ls, ls + MT, outt, ld, a.bias, a.act);
    for (size_t i = 0; i < mt; i++) {
      float* o = a.out + (m0 + i) * a.ldo;
      for (size_t r = r0; r < r1; r++) o[r] = outt[(r - r0) * ld + i];
    }
  });
  return name;
}

// Crossover against the dense int8 GEMM (VNNI), measured by bench/sparse.ts: the highest work density
// (stored groups × 4 / (N·K)) at which the sparse int8 kernel is still faster. See docs/sparse.md.
double s8_spmm_max_density(const S8SpmmVariant& v, size_t m) {
  (void)v;
  if (m <= 1) return 0.45;
  if (m <= 128) return 0.30;
  return 0.25;
}

const char* s8_sparse_kernel_for(S8SparseWeights& w, size_t m, SparseMode mode) {
  const S8SpmmVariant& v = s8_spmm_table.select();
  const bool dense = mode == SparseMode::kDense || (mode == SparseMode::kAuto && w.work_density() > s8_spmm_max_density(v, m));
  if (dense) return s8_gemm_table.select().name;
  return s8_spmm_auto_path(v, m) == SpmmPath::kRow ? v.row_name : v.xt_name;
}

const char* s8_sparse_linear(const S8SparseLinearArgs& a) {
  const S8SpmmVariant& v = s8_spmm_table.select();
  const S8SparseView& w = a.w->view();
  const bool dense = a.mode == SparseMode::kDense ||
                     (a.mode == SparseMode::kAuto && a.w->work_density() > s8_spmm_max_density(v, a.m));
  if (dense) {
    const S8GemmVariant& gv = s8_gemm_table.select();
    if (a.m == 0 || w.n == 0) return gv.name;
    auto packed = a.w->dense_packed(gv);
    S8LinearDynamicArgs da{a.m, a.x, w.k, packed.get(), a.bias, a.act, a.out, w.n};
    s8_linear_dynamic_run(gv, quantize_table.select(), da);
    return gv.name;
  }
  S8SpmmArgs sa{&w, a.m, a.x, w.k, a.out, w.n, a.bias, a.act};
  return s8_spmm_run(v, sa);
}

}  // namespace simdtensor
