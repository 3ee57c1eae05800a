// Scalar references for the elementwise family: plain loops, double accumulation, libm transcendentals.
#include <cmath>
#include <vector>
#include "kernels/f32-eltwise/row_moments.h"
#include "kernels/f32-eltwise/f32-eltwise.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace simdtensor {
namespace {

float bin(int op, float a, float b) {
  switch (op) {
    case kBinAdd: return a + b;
    case kBinSub: return a - b;
    case kBinMul: return a * b;
    case kBinDiv: return a / b;
    case kBinMax: return std::isnan(a) || std::isnan(b) ? NAN : std::fmax(a, b);
    case kBinMin: return std::isnan(a) || std::isnan(b) ? NAN : std::fmin(a, b);
    default: return float((double(a) - b) * (double(a) - b));
  }
}

float un(int op, float x, float p0, float p1) {
  const double v = x;
  switch (op) {
    case kUnClip: return std::isnan(x) ? x : x < p0 ? p0 : x > p1 ? p1 : x;
    case kUnLeakyRelu: return x > 0 ? x : float(p0 * v);
    case kUnSigmoid: return float(1.0 / (1.0 + std::exp(-v)));
    case kUnTanh: return float(std::tanh(v));
    case kUnExp: return float(std::exp(v));
    case kUnSqrt: return float(std::sqrt(v));
    case kUnRsqrt: return float(1.0 / std::sqrt(v));
    case kUnErf: return float(std::erf(v));
    default: return x > 0 ? x : float(p0 * std::expm1(v));
  }
}

void ref_binary(int op, size_t n, const float* a, const float* b, float* out) {
  for (size_t i = 0; i < n; i++) out[i] = bin(op, a[i], b[i]);
}
void ref_binary_row(int op, size_t rows, size_t cols, const float* a, const float* row, float* out) {
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) out[r * cols + c] = bin(op, a[r * cols + c], row[c]);
}
void ref_activation(int act, size_t n, const float* x, float* out) {
  for (size_t i = 0; i < n; i++) out[i] = f32_activation_reference(x[i], act);
}
void ref_unary(int op, size_t n, const float* x, float p0, float p1, float* out) {
  for (size_t i = 0; i < n; i++) out[i] = un(op, x[i], p0, p1);
}
void ref_softmax(bool log, size_t rows, size_t cols, const float* x, const float* add_row, float* out) {
  std::vector<float> t(cols);
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    if (add_row) {
      for (size_t c = 0; c < cols; c++) t[c] = xr[c] + add_row[c];
      xr = t.data();
    }
    double mx = -INFINITY;
    bool nan = false;
    for (size_t c = 0; c < cols; c++) {
      if (std::isnan(xr[c])) nan = true;
      mx = xr[c] > mx ? xr[c] : mx;
    }
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += std::exp(double(xr[c]) - mx);
    for (size_t c = 0; c < cols; c++) {
      double v = log ? (double(xr[c]) - mx - std::log(s)) : std::exp(double(xr[c]) - mx) / s;
      out[r * cols + c] = nan ? NAN : float(v);
    }
  }
}
void ref_softmax_scaled(size_t rows, size_t cols, const float* x, float scale, const float* mask, size_t mask_stride,
                        float* out, float* inv_sum) {
  std::vector<double> t(cols);
  for (size_t r = 0; r < rows; r++) {
    double mx = -INFINITY;
    bool nan = false;
    for (size_t c = 0; c < cols; c++) {
      t[c] = double(x[r * cols + c]) * scale + (mask ? double(mask[r * mask_stride + c]) : 0.0);
      if (std::isnan(t[c])) nan = true;
      mx = t[c] > mx ? t[c] : mx;
    }
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += (t[c] = std::exp(t[c] - mx));
    for (size_t c = 0; c < cols; c++) out[r * cols + c] = nan ? NAN : float(t[c]);
    inv_sum[r] = nan ? NAN : float(1.0 / s);
  }
}
void ref_layernorm(size_t rows, size_t cols, const float* x, const float* residual, const float* gamma,
                   const float* beta, float eps, float* out) {
  std::vector<float> t(cols);
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    if (residual) {
      for (size_t c = 0; c < cols; c++) t[c] = xr[c] + residual[r * cols + c];
      xr = t.data();
    }
    double mean, rstd;
    ref_row_moments(xr, cols, eps, &mean, &rstd);
    for (size_t c = 0; c < cols; c++) {
      double y = (xr[c] - mean) * rstd;
      if (gamma) y *= gamma[c];
      if (beta) y += beta[c];
      out[r * cols + c] = float(y);
    }
  }
}

}  // namespace

const F32EltwiseVariant f32_eltwise_reference = {"f32_eltwise__reference", Isa::kScalar, ref_binary, ref_binary_row,
                                                 ref_activation,           ref_unary, ref_softmax,  ref_softmax_scaled, ref_layernorm};

}  // namespace simdtensor
