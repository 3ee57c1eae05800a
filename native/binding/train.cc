// N-API glue for the f32 training family (backward passes, losses, optimizer updates, dropout). No math here.
#include <cmath>
#include <string>

#include "binding/async.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "kernels/f32-train/f32-train.h"

namespace simdtensor {
namespace binding {
namespace {

// reluBackward(y, dy, dx, n) / geluBackward(x, dy, dx, n)
template <bool kGelu>
Napi::Value ActBackward(const Napi::CallbackInfo& info) {
  const char* fn = kGelu ? "geluBackward" : "reluBackward";
  const size_t n = size_arg(info, 3, fn, "n");
  const float* x = typed_data<float>(info, 0, fn, kGelu ? "x" : "y", n);
  const float* dy = typed_data<float>(info, 1, fn, "dy", n);
  float* dx = typed_data<float>(info, 2, fn, "dx", n);
  check_sync_write(info.Env(), fn, dx, n * sizeof(float));  // an async op in flight may own it
  const F32TrainVariant& v = f32_train_table.select();
  (kGelu ? v.gelu_backward : v.relu_backward)(n, x, dy, dx);
  return Napi::Value();
}

// softmaxXent(z, rows, cols, invTemp, labels: Int32Array|null, target: Float32Array|null, scale,
//             grad: Float32Array|null, accumulate) -> summed loss. Exactly one of labels / target.
Napi::Value SoftmaxXent(const Napi::CallbackInfo& info) {
  const char* fn = "softmaxXent";
  napi_env env = info.Env();
  const size_t rows = size_arg(info, 1, fn, "rows"), cols = size_arg(info, 2, fn, "cols");
  const size_t total = mul_sizes(env, fn, rows, cols);
  const float* z = typed_data<float>(info, 0, fn, "z", total);
  const float inv_temp = float(num_arg(info, 3));
  if (!(inv_temp > 0) || !std::isfinite(inv_temp))
    throw Napi::RangeError::New(env, "softmaxXent: invTemp must be a finite number > 0");
  const int32_t* labels = typed_data<int32_t>(info, 4, fn, "labels", rows, true);
  const float* target = typed_data<float>(info, 5, fn, "target", total, true);
  if ((labels == nullptr) == (target == nullptr) && rows > 0)
    throw Napi::TypeError::New(env, "softmaxXent: pass exactly one of labels and target");
  if (cols == 0 && rows > 0) throw Napi::RangeError::New(env, "softmaxXent: cols must be > 0");
  if (labels)
    for (size_t r = 0; r < rows; r++)
      if (labels[r] < 0 || size_t(labels[r]) >= cols)
        throw Napi::RangeError::New(env, "softmaxXent: labels[" + std::to_string(r) + "] (" +
                                             std::to_string(labels[r]) + ") is not in [0, " + std::to_string(cols) +
                                             ")");
  const float scale = float(num_arg(info, 6));
  float* grad = typed_data<float>(info, 7, fn, "grad", total, true);
  const bool accumulate = bool_arg(info, 8);
  if (rows == 0) return Napi::Number::New(env, 0.0);
  return Napi::Number::New(env, f32_train_table.select().softmax_xent(rows, cols, z, inv_temp, labels, target, scale,
                                                                grad, accumulate));
}

// layerNormBackward(x, gamma|null, dy, eps, dx, dgamma|null, dbeta|null, rows, cols)
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const char* fn = "layerNormBackward";
  const size_t rows = size_arg(info, 7, fn, "rows"), cols = size_arg(info, 8, fn, "cols");
  const size_t total = mul_sizes(info.Env(), fn, rows, cols);
  const float* x = typed_data<float>(info, 0, fn, "x", total);
  const float* g = typed_data<float>(info, 1, fn, "gamma", cols, true);
  const float* dy = typed_data<float>(info, 2, fn, "dy", total);
  const float eps = float(num_arg(info, 3));
  float* dx = typed_data<float>(info, 4, fn, "dx", total);
  float* dg = typed_data<float>(info, 5, fn, "dgamma", cols, true);
  float* db = typed_data<float>(info, 6, fn, "dbeta", cols, true);
  check_sync_write(info.Env(), fn, dx, total * sizeof(float));
  if (cols > 0) f32_train_table.select().layernorm_backward(rows, cols, x, g, dy, eps, dx, dg, db);
  return Napi::Value();
}

// sgdStep(w, g, v|null, n, lr, momentum, weightDecay, nesterov, mask|null)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const char* fn = "sgdStep";
  const size_t n = size_arg(info, 3, fn, "n");
  float* w = typed_data<float>(info, 0, fn, "w", n);
  const float* g = typed_data<float>(info, 1, fn, "g", n);
  float* v = typed_data<float>(info, 2, fn, "v", n, true);
  const float* mask = typed_data<float>(info, 8, fn, "mask", n, true);
  check_sync_write(info.Env(), fn, w, n * sizeof(float));  // e.g. weights an async linear still reads
  f32_train_table.select().sgd(n, w, g, v, float(num_arg(info, 4)), float(num_arg(info, 5)), float(num_arg(info, 6)),
                         bool_arg(info, 7), mask);
  return Napi::Value();
}

// adamwStep(w, g, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2, mask|null)
Napi::Value AdamwStep(const Napi::CallbackInfo& info) {
  const char* fn = "adamwStep";
  const size_t n = size_arg(info, 4, fn, "n");
  float* w = typed_data<float>(info, 0, fn, "w", n);
  const float* g = typed_data<float>(info, 1, fn, "g", n);
  float* m = typed_data<float>(info, 2, fn, "m", n);
  float* v = typed_data<float>(info, 3, fn, "v", n);
  const float* mask = typed_data<float>(info, 12, fn, "mask", n, true);
  check_sync_write(info.Env(), fn, w, n * sizeof(float));  // e.g. weights an async linear still reads
  const float bc1 = float(num_arg(info, 10)), bc2 = float(num_arg(info, 11));
  if (!(bc1 > 0) || !(bc2 > 0)) throw Napi::RangeError::New(info.Env(), "adamwStep: bias corrections must be > 0");
  f32_train_table.select().adamw(n, w, g, m, v, float(num_arg(info, 5)), float(num_arg(info, 6)), float(num_arg(info, 7)),
                           float(num_arg(info, 8)), float(num_arg(info, 9)), bc1, bc2, mask);
  return Napi::Value();
}

// dropout(x, n, p, seedLo, seedHi, mask, out)
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  const char* fn = "dropout";
  const size_t n = size_arg(info, 1, fn, "n");
  const float* x = typed_data<float>(info, 0, fn, "x", n);
  const float p = float(num_arg(info, 2));
  if (!(p >= 0 && p < 1)) throw Napi::RangeError::New(info.Env(), "dropout: p must be in [0, 1)");
  const uint64_t seed = (uint64_t(uint32_t(num_arg(info, 4))) << 32) | uint64_t(uint32_t(num_arg(info, 3)));
  float* mask = typed_data<float>(info, 5, fn, "mask", n);
  float* out = typed_data<float>(info, 6, fn, "out", n);
  check_sync_write(info.Env(), fn, out, n * sizeof(float));
  f32_train_table.select().dropout(n, x, p, seed, mask, out);
  return Napi::Value();
}

// transpose(x, rows, cols, out)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const char* fn = "transpose";
  const size_t rows = size_arg(info, 1, fn, "rows"), cols = size_arg(info, 2, fn, "cols");
  const size_t total = mul_sizes(info.Env(), fn, rows, cols);
  const float* x = typed_data<float>(info, 0, fn, "x", total);
  float* out = typed_data<float>(info, 3, fn, "out", total);
  if (x == out && total > 1) throw Napi::RangeError::New(info.Env(), "transpose: out must not alias x");
  check_sync_write(info.Env(), fn, out, total * sizeof(float));
  if (total == 0) return Napi::Value();  // one of rows, cols is 0: the other is unchecked, never loop over it
  f32_train_table.select().transpose(rows, cols, x, out);
  return Napi::Value();
}

// argmaxRows(x, rows, cols, out: Int32Array)
Napi::Value ArgmaxRows(const Napi::CallbackInfo& info) {
  const char* fn = "argmaxRows";
  const size_t rows = size_arg(info, 1, fn, "rows"), cols = size_arg(info, 2, fn, "cols");
  if (cols == 0 && rows > 0) throw Napi::RangeError::New(info.Env(), "argmaxRows: cols must be > 0");
  const float* x = typed_data<float>(info, 0, fn, "x", mul_sizes(info.Env(), fn, rows, cols));
  int32_t* out = typed_data<int32_t>(info, 3, fn, "out", rows);
  f32_train_table.select().argmax(rows, cols, x, out);
  return Napi::Value();
}

}  // namespace

void init_train(Napi::Env env, Napi::Object exports) {
  export_fn<ActBackward<false>>(env, exports, "reluBackward");
  export_fn<ActBackward<true>>(env, exports, "geluBackward");
  export_fn<SoftmaxXent>(env, exports, "softmaxXent");
  export_fn<LayerNormBackward>(env, exports, "layerNormBackward");
  export_fn<SgdStep>(env, exports, "sgdStep");
  export_fn<AdamwStep>(env, exports, "adamwStep");
  export_fn<Dropout>(env, exports, "dropout");
  export_fn<Transpose>(env, exports, "transpose");
  export_fn<ArgmaxRows>(env, exports, "argmaxRows");
}

}  // namespace binding
}  // namespace simdtensor
