// Scalar references for the training family: plain loops, double accumulation, libm transcendentals.
#include <cmath>
#include <vector>
#include "kernels/f32-eltwise/row_moments.h"
#include "kernels/f32-train/f32-train.h"

// Debian's aarch64-linux-gnu-g++ 12 hits an internal compiler error (vect_transform_reduction) vectorizing the
// double-precision reductions below at -O3. This is the scalar reference: plain loops are the point, so the
// auto-vectorizer is simply off for this file on that compiler.
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-vectorize")
#endif

namespace simdtensor {
namespace {

void ref_relu_backward(size_t n, const float* y, const float* dy, float* dx) {
  for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0.0f;
}

void ref_gelu_backward(size_t n, const float* x, const float* dy, float* dx) {
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    const double d = 0.5 * (1.0 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2.0 * M_PI);
    dx[i] = float(dy[i] * d);
  }
}

double ref_softmax_xent(size_t rows, size_t cols, const float* z, float inv_temp, const int32_t* labels,
                        const float* target, float scale, float* grad, bool accumulate) {
  double total = 0;
  for (size_t r = 0; r < rows; r++) {
    const float* zr = z + r * cols;
    double mx = -INFINITY;
    for (size_t c = 0; c < cols; c++) mx = std::fmax(mx, double(zr[c]) * inv_temp);
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += std::exp(double(zr[c]) * inv_temp - mx);
    const double lse = mx + std::log(s);
    for (size_t c = 0; c < cols; c++) {
      const double logp = double(zr[c]) * inv_temp - lse;
      const double t = labels ? (size_t(labels[r]) == c ? 1.0 : 0.0) : double(target[r * cols + c]);
      if (t > 0) total += t * ((labels ? 0.0 : std::log(t)) - logp);
      if (grad) {
        const double g = scale * (std::exp(logp) - t);
        grad[r * cols + c] = float((accumulate ? double(grad[r * cols + c]) : 0.0) + g);
      }
    }
  }
  return total;
}

void ref_layernorm_backward(size_t rows, size_t cols, const float* x, const float* gamma, const float* dy, float eps,
                            float* dx, float* dgamma, float* dbeta) {
  std::vector<double> dg(cols, 0.0), db(cols, 0.0);
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    const float* dr = dy + r * cols;
    double mean, rstd;
    ref_row_moments(xr, cols, eps, &mean, &rstd);
    double a = 0, b = 0;
    for (size_t c = 0; c < cols; c++) {
      const double xh = (xr[c] - mean) * rstd, g = double(dr[c]) * (gamma ? gamma[c] : 1.0f);
      a += g;
      b += g * xh;
      dg[c] += double(dr[c]) * xh;
      db[c] += dr[c];
    }
    a /= double(cols);
    b /= double(cols);
    for (size_t c = 0; c < cols; c++) {
      const double xh = (xr[c] - mean) * rstd, g = double(dr[c]) * (gamma ? gamma[c] : 1.0f);
      dx[r * cols + c] = float(rstd * (g - a - xh * b));
    }
  }
  for (size_t c = 0; c < cols; c++) {
    if (dgamma) dgamma[c] = float(dg[c]);
    if (dbeta) dbeta[c] = float(db[c]);
  }
}

void ref_sgd(size_t n, float* w, const float* g, float* v, float lr, float momentum, float wd, bool nesterov,
             const float* mask) {
  for (size_t i = 0; i < n; i++) {
    const double gp = double(g[i]) + double(wd) * w[i];
    double step = gp;
    if (v) {
      v[i] = float(double(momentum) * v[i] + gp);
      step = nesterov ? gp + double(momentum) * v[i] : double(v[i]);
    }
    double nw = double(w[i]) - double(lr) * step;
    if (mask) nw *= mask[i];
    w[i] = float(nw);
  }
}

void ref_adamw(size_t n, float* w, const float* g, float* m, float* v, float lr, float b1, float b2, float eps,
               float wd, float bc1, float bc2, const float* mask) {
  for (size_t i = 0; i < n; i++) {
    m[i] = float(double(b1) * m[i] + (1.0 - b1) * g[i]);
    v[i] = float(double(b2) * v[i] + (1.0 - b2) * double(g[i]) * g[i]);
    double nw = double(w[i]) * (1.0 - double(lr) * wd) - double(lr) * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + eps);
    if (mask) nw *= mask[i];
    w[i] = float(nw);
  }
}

void ref_dropout(size_t n, const float* x, float p, uint64_t seed, float* mask, float* out) {
  for (size_t i = 0; i < n; i++) {
    mask[i] = f32_train_uniform(seed, i) >= p ? (p < 1.0f ? 1.0f / (1.0f - p) : 0.0f) : 0.0f;
    out[i] = x[i] * mask[i];
  }
}

void ref_transpose(size_t rows, size_t cols, const float* x, float* out) {
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
}

void ref_argmax(size_t rows, size_t cols, const float* x, int32_t* out) {
  for (size_t r = 0; r < rows; r++) {
    size_t best = 0;
    for (size_t c = 0; c < cols; c++) {
      const float v = x[r * cols + c];
      if (std::isnan(v)) {
        best = c;
        break;
      }
      if (v > x[r * cols + best]) best = c;
    }
    out[r] = int32_t(best);
  }
}

}  // namespace

const F32TrainVariant f32_train_reference = {
    "f32_train__reference", Isa::kScalar, ref_relu_backward, ref_gelu_backward, ref_softmax_xent,
    ref_layernorm_backward, ref_sgd,      ref_adamw,         ref_dropout,       ref_transpose,
    ref_argmax};

}  // namespace simdtensor
