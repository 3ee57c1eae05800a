// N-API glue for the f32 family: packed weights handle, matmul, elementwise ops. No math here.
#include <memory>

#include "binding/async.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "runtime/core/aligned.h"
#include "kernels/f32-probe/f32-probe.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/f32/pack.h"
#include "runtime/f32/packed_weights.h"

namespace simdtensor {
namespace binding {

class PackedF32 : public Napi::ObjectWrap<PackedF32> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PackedF32",
                       {InstanceAccessor<&PackedF32::K>("k"), InstanceAccessor<&PackedF32::N>("n"),
                        InstanceAccessor<&PackedF32::Bytes>("bytes")});
  }
  // new PackedF32(b: Float32Array, k, n, transB)
  explicit PackedF32(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<PackedF32>(info) {
    const char* fn = "packWeights";
    size_t k = pack_dim_arg(info, 1, fn, "k"), n = pack_dim_arg(info, 2, fn, "n");
    bool trans_b = bool_arg(info, 3);
    const float* b = typed_data<float>(info, 0, fn, "weights", mul_sizes(info.Env(), fn, k, n));
    w_ = std::make_shared<PackedF32Weights>(b, trans_b ? k : n, trans_b, k, n, f32_gemm_table.select().nr);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(info.Env(), bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), "packWeights");
  }
  ~PackedF32() override { adjust_external_memory(Env(), -bytes_); }
  std::shared_ptr<PackedF32Weights> weights() const { return w_; }

 private:
  Napi::Value K(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->k())); }
  Napi::Value N(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->n())); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->bytes())); }
  std::shared_ptr<PackedF32Weights> w_;
  int64_t bytes_ = 0;
};

PackedF32* unwrap_packed_f32(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  Napi::Value v = info[i];
  AddonData* d = addon_data(info.Env());
  // instanceof alone is fooled by Object.create(PackedF32.prototype), which has no native object behind it.
  void* raw = nullptr;
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(d->packed_f32_ctor.Value()) || napi_unwrap(info.Env(), v, &raw) != napi_ok || !raw)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": weights must be a PackedF32 handle from packWeights()");
  return static_cast<PackedF32*>(raw);
}

std::shared_ptr<PackedF32Weights> packed_f32_weights(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return unwrap_packed_f32(info, i, fn)->weights();
}

namespace {

int act_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  int act = int_arg(info, i);
  if (act < 0 || act > 2) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": bad activation code");
  return act;
}

// matmulPacked(a: Float32Array, m, packed, out: Float32Array, bias: Float32Array|null, act) -> kernel name
Napi::Value MatmulPacked(const Napi::CallbackInfo& info) {
  const char* fn = "matmul";
  auto w = unwrap_packed_f32(info, 2, fn)->weights();
  const size_t m = size_arg(info, 1, fn, "m"), k = w->k(), n = w->n();
  napi_env env = info.Env();
  const float* a = typed_data<float>(info, 0, fn, "a", mul_sizes(env, fn, m, k));
  float* out = typed_data<float>(info, 3, fn, "out", mul_sizes(env, fn, m, n));
  check_sync_write(env, fn, out, m * n * sizeof(float));  // an async op in flight may own it
  const float* bias = typed_data<float>(info, 4, fn, "bias", n, true);
  check_sync_read(env, fn, "a", a, m * k * sizeof(float));  // ... or still be writing an input
  check_sync_read(env, fn, "bias", bias, n * sizeof(float));
  const int act = act_arg(info, 5, fn);
  const F32GemmVariant& v = f32_gemm_table.select();
  F32GemmArgs g{m, n, k, a, k, w->panels(v.nr), out, n, bias, act};
  f32_gemm_run(v, g);
  return Napi::Value();
}

thread_local ScratchBuffer<float> t_bpack;

// matmul(a, m, k, b, n, transB, out, bias|null, act): B packed per call (one-off products).
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const char* fn = "matmul";
  napi_env env = info.Env();
  const size_t m = size_arg(info, 1, fn, "m"), k = size_arg(info, 2, fn, "k"), n = size_arg(info, 4, fn, "n");
  const bool trans_b = bool_arg(info, 5);
  const float* a = typed_data<float>(info, 0, fn, "a", mul_sizes(env, fn, m, k));
  const float* b = typed_data<float>(info, 3, fn, "b", mul_sizes(env, fn, k, n));
  float* out = typed_data<float>(info, 6, fn, "out", mul_sizes(env, fn, m, n));
  check_sync_write(env, fn, out, m * n * sizeof(float));  // an async op in flight may own it
  const float* bias = typed_data<float>(info, 7, fn, "bias", n, true);
  check_sync_read(env, fn, "a", a, m * k * sizeof(float));  // ... or still be writing an input
  check_sync_read(env, fn, "b", b, k * n * sizeof(float));
  check_sync_read(env, fn, "bias", bias, n * sizeof(float));
  const int act = act_arg(info, 8, fn);
  if (m == 0 || n == 0) return Napi::Value();  // empty output: k and n need not be backed by memory, skip packing
  const F32GemmVariant& v = f32_gemm_table.select();
  float* bp = t_bpack.get(packed_b_f32_floats(k, n, v.nr));
  pack_b_f32(b, trans_b ? k : n, trans_b, k, n, v.nr, bp);
  F32GemmArgs g{m, n, k, a, k, bp, out, n, bias, act};
  f32_gemm_run(v, g);
  return Napi::Value();
}

// binary(op, a, b, out, n)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const char* fn = "binary";
  const int op = int_arg(info, 0);
  if (op < 0 || op > kBinLast) throw Napi::RangeError::New(info.Env(), "binary: bad op code");
  const size_t n = size_arg(info, 4, fn, "n");
  const float* a = typed_data<float>(info, 1, fn, "a", n);
  const float* b = typed_data<float>(info, 2, fn, "b", n);
  float* out = typed_data<float>(info, 3, fn, "out", n);
  check_sync_write(info.Env(), "add/sub/mul", out, n * sizeof(float));  // an async op in flight may own it
  check_sync_read(info.Env(), "add/sub/mul", "a", a, n * sizeof(float));  // ... or still be writing an input
  check_sync_read(info.Env(), "add/sub/mul", "b", b, n * sizeof(float));
  f32_eltwise_table.select().binary(op, n, a, b, out);
  return Napi::Value();
}

// binaryRow(op, a, row, out, rows, cols)
Napi::Value BinaryRow(const Napi::CallbackInfo& info) {
  const char* fn = "binaryRow";
  const int op = int_arg(info, 0);
  if (op < 0 || op > kBinLast) throw Napi::RangeError::New(info.Env(), "binaryRow: bad op code");
  const size_t rows = size_arg(info, 4, fn, "rows"), cols = size_arg(info, 5, fn, "cols");
  const size_t total = mul_sizes(info.Env(), fn, rows, cols);
  const float* a = typed_data<float>(info, 1, fn, "a", total);
  const float* row = typed_data<float>(info, 2, fn, "row", cols);
  float* out = typed_data<float>(info, 3, fn, "out", total);
  check_sync_write(info.Env(), "add/sub/mul", out, total * sizeof(float));
  check_sync_read(info.Env(), "add/sub/mul", "a", a, total * sizeof(float));
  check_sync_read(info.Env(), "add/sub/mul", "b", row, cols * sizeof(float));
  if (total == 0) return Napi::Value();  // rows is unchecked when cols is 0: never loop over it
  f32_eltwise_table.select().binary_row(op, rows, cols, a, row, out);
  return Napi::Value();
}

// activation(act, x, out, n)
Napi::Value Activation(const Napi::CallbackInfo& info) {
  const char* fn = "activation";
  const int act = act_arg(info, 0, fn);
  const size_t n = size_arg(info, 3, fn, "n");
  const float* x = typed_data<float>(info, 1, fn, "x", n);
  float* out = typed_data<float>(info, 2, fn, "out", n);
  check_sync_write(info.Env(), act == 2 ? "gelu" : "relu", out, n * sizeof(float));
  check_sync_read(info.Env(), act == 2 ? "gelu" : "relu", "x", x, n * sizeof(float));
  f32_eltwise_table.select().activation(act, n, x, out);
  return Napi::Value();
}

// unary(op, x, out, n, p0, p1): the UnaryOp family (clip, leaky relu, sigmoid, tanh, exp, sqrt, rsqrt, erf, elu)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const char* fn = "unary";
  const int op = int_arg(info, 0);
  if (op < 0 || op > kUnLast) throw Napi::RangeError::New(info.Env(), "unary: bad op code");
  const size_t n = size_arg(info, 3, fn, "n");
  const float* x = typed_data<float>(info, 1, fn, "x", n);
  float* out = typed_data<float>(info, 2, fn, "out", n);
  if (!info[4].IsNumber() || !info[5].IsNumber()) throw Napi::TypeError::New(info.Env(), "unary: p0 and p1 must be numbers");
  const float p0 = info[4].As<Napi::Number>().FloatValue(), p1 = info[5].As<Napi::Number>().FloatValue();
  check_sync_write(info.Env(), fn, out, n * sizeof(float));
  check_sync_read(info.Env(), fn, "x", x, n * sizeof(float));
  f32_eltwise_table.select().unary(op, n, x, p0, p1, out);
  return Napi::Value();
}

// softmax(log, x, out, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const char* fn = "softmax";
  const bool log = bool_arg(info, 0);
  const size_t rows = size_arg(info, 3, fn, "rows"), cols = size_arg(info, 4, fn, "cols");
  const size_t total = mul_sizes(info.Env(), fn, rows, cols);
  const float* x = typed_data<float>(info, 1, fn, "x", total);
  float* out = typed_data<float>(info, 2, fn, "out", total);
  check_sync_write(info.Env(), log ? "logSoftmax" : "softmax", out, total * sizeof(float));
  check_sync_read(info.Env(), log ? "logSoftmax" : "softmax", "x", x, total * sizeof(float));
  if (cols > 0) f32_eltwise_table.select().softmax(log, rows, cols, x, out);
  return Napi::Value();
}

// layerNorm(x, gamma|null, beta|null, eps, out, rows, cols)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const char* fn = "layerNorm";
  const size_t rows = size_arg(info, 5, fn, "rows"), cols = size_arg(info, 6, fn, "cols");
  const size_t total = mul_sizes(info.Env(), fn, rows, cols);
  const float* x = typed_data<float>(info, 0, fn, "x", total);
  const float* g = typed_data<float>(info, 1, fn, "gamma", cols, true);
  const float* b = typed_data<float>(info, 2, fn, "beta", cols, true);
  const float eps = float(num_arg(info, 3));
  float* out = typed_data<float>(info, 4, fn, "out", total);
  check_sync_write(info.Env(), fn, out, total * sizeof(float));
  check_sync_read(info.Env(), fn, "x", x, total * sizeof(float));
  check_sync_read(info.Env(), fn, "gamma", g, cols * sizeof(float));
  check_sync_read(info.Env(), fn, "beta", b, cols * sizeof(float));
  if (cols > 0) f32_eltwise_table.select().layernorm(rows, cols, x, g, b, eps, out);
  return Napi::Value();
}

// probeF32Peak(ms) -> GFLOP/s of an FMA loop on the best allowed ISA.
Napi::Value ProbeF32Peak(const Napi::CallbackInfo& info) {
  double ms = num_arg(info, 0);
  if (!(ms > 0 && ms <= 60000)) throw Napi::RangeError::New(info.Env(), "probeF32Peak: ms must be in (0, 60000]");
  return Napi::Number::New(info.Env(), probe_f32_peak(ms));
}

// probeReadBandwidth(bytes, ms) -> GB/s streaming reads over a buffer of that size.
Napi::Value ProbeReadBandwidth(const Napi::CallbackInfo& info) {
  const size_t bytes = size_arg(info, 0, "probeReadBandwidth", "bytes", size_t(1) << 34);
  double ms = num_arg(info, 1);
  if (!(ms > 0 && ms <= 60000)) throw Napi::RangeError::New(info.Env(), "probeReadBandwidth: ms must be in (0, 60000]");
  return Napi::Number::New(info.Env(), probe_read_bandwidth(bytes, ms));
}

}  // namespace

void init_f32(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = PackedF32::Define(env);
  addon_data(env)->packed_f32_ctor = Napi::Persistent(ctor);
  exports.Set("PackedF32", ctor);
  export_fn<MatmulPacked>(env, exports, "matmulPacked");
  export_fn<Matmul>(env, exports, "matmul");
  export_fn<Binary>(env, exports, "binary");
  export_fn<BinaryRow>(env, exports, "binaryRow");
  export_fn<Activation>(env, exports, "activation");
  export_fn<Unary>(env, exports, "unary");
  export_fn<Softmax>(env, exports, "softmax");
  export_fn<LayerNorm>(env, exports, "layerNorm");
  export_fn<ProbeF32Peak>(env, exports, "probeF32Peak");
  export_fn<ProbeReadBandwidth>(env, exports, "probeReadBandwidth");
}

}  // namespace binding
}  // namespace simdtensor
