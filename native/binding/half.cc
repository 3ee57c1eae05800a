// N-API glue for the half-precision family: conversions, packed f16/bf16 weights, matmul on half operands and
// the half peak probes. No math here: everything calls the plain C++ entry points.
#include <memory>
#include <string>

#include "binding/async.h"
#include "binding/half_args.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "kernels/half-convert/half-convert.h"
#include "kernels/half-probe/half-probe.h"
#include "runtime/half/gemm_driver.h"
#include "runtime/half/packed_weights.h"

namespace simdtensor {
namespace binding {
namespace {

// Tags PackedHalf objects so an unrelated object can never be unwrapped as one (no shared constructor slot).
const napi_type_tag kPackedHalfTag = {0x5f1d3c2a9b8e4d71ull, 0xa6c4e2f0b1d3958cull};

// Element type codes shared with src/half.ts: 0 float32, 1 float16, 2 bfloat16.
ElemType elem_type_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, bool allow_f32) {
  const int t = int_arg(info, i);
  if (t < (allow_f32 ? 0 : 1) || t > 2)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + arg + " must be " +
                                                (allow_f32 ? "0 (float32), " : "") + "1 (float16) or 2 (bfloat16), got " +
                                                std::to_string(t));
  return ElemType(t);
}

// A Float32Array (type f32) or Uint16Array (half types) of at least min_len elements.
void* elem_data(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, ElemType t, size_t min_len) {
  if (t == ElemType::kF32) return typed_data<float>(info, i, fn, arg, min_len);
  return typed_data<uint16_t>(info, i, fn, arg, min_len);
}

int act_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int act = int_arg(info, i);
  if (act < 0 || act > 2)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": activation code must be 0, 1 or 2, got " + std::to_string(act));
  return act;
}

class PackedHalf : public Napi::ObjectWrap<PackedHalf> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PackedHalf",
                       {InstanceAccessor<&PackedHalf::K>("k"), InstanceAccessor<&PackedHalf::N>("n"),
                        InstanceAccessor<&PackedHalf::Bytes>("bytes"), InstanceAccessor<&PackedHalf::Type>("type"),
                        InstanceAccessor<&PackedHalf::MaxAbs>("maxAbs")});
  }
  // new PackedHalf(b: Uint16Array, k, n, transB, type: 1|2, aType: 0|1|2): packed first in the layout of the
  // kernel that runs with activations of aType (another layout is made on first use if needed).
  explicit PackedHalf(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<PackedHalf>(info) {
    const char* fn = "packWeights";
    Napi::Env env = info.Env();
    const size_t k = pack_dim_arg(info, 1, fn, "k"), n = pack_dim_arg(info, 2, fn, "n");
    const bool trans_b = bool_arg(info, 3);
    const ElemType t = elem_type_arg(info, 4, fn, "type", false);
    const ElemType at = elem_type_arg(info, 5, fn, "activation type", true);
    const uint16_t* b = typed_data<uint16_t>(info, 0, fn, "weights", mul_sizes(env, fn, k, n));
    w_ = std::make_shared<PackedHalfWeights>(t, b, trans_b ? k : n, trans_b, k, n, half_matmul_variant(t, at).b);
    napi_type_tag_object(env, info.This(), &kPackedHalfTag);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(env, bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), "packWeights");
  }
  ~PackedHalf() override { adjust_external_memory(Env(), -bytes_); }
  const std::shared_ptr<PackedHalfWeights>& weights() const { return w_; }

 private:
  Napi::Value K(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->k())); }
  Napi::Value N(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->n())); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->bytes())); }
  Napi::Value Type(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(int(w_->type()))); }
  Napi::Value MaxAbs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->max_abs())); }
  std::shared_ptr<PackedHalfWeights> w_;
  int64_t bytes_ = 0;
};

PackedHalf* unwrap_packed_half(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  napi_env env = info.Env();
  napi_value v = info[i];
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  bool tagged = false;
  if (vt == napi_object) napi_check_object_type_tag(env, v, &kPackedHalfTag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, std::string(fn) + ": weights must be a PackedHalf handle from packWeights()");
  return PackedHalf::Unwrap(Napi::Object(env, v));
}

// halfConvert(kind, in, out, n): kind 0 f32→f16, 1 f16→f32, 2 f32→bf16, 3 bf16→f32.
Napi::Value HalfConvert(const Napi::CallbackInfo& info) {
  const char* fn = "cast";
  const int kind = int_arg(info, 0);
  if (kind < 0 || kind > 3) throw Napi::RangeError::New(info.Env(), "cast: conversion kind must be 0..3, got " + std::to_string(kind));
  const size_t n = size_arg(info, 3, fn, "n");
  const bool from_f32 = kind == 0 || kind == 2;
  const void* in = from_f32 ? static_cast<const void*>(typed_data<float>(info, 1, fn, "input", n))
                            : static_cast<const void*>(typed_data<uint16_t>(info, 1, fn, "input", n));
  void* out = from_f32 ? static_cast<void*>(typed_data<uint16_t>(info, 2, fn, "out", n))
                       : static_cast<void*>(typed_data<float>(info, 2, fn, "out", n));
  half_cvt_select(HalfCvtKind(kind)).fn(n, in, out);
  return info.Env().Undefined();
}

size_t elem_bytes(ElemType t) { return t == ElemType::kF32 ? 4 : 2; }

}  // namespace

HalfPackedCall half_packed_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  HalfPackedCall c{};
  c.w = unwrap_packed_half(info, 3, fn)->weights();
  const ElemType at = elem_type_arg(info, 1, fn, "a type", true);
  const ElemType ot = elem_type_arg(info, 5, fn, "out type", true);
  const size_t m = size_arg(info, 2, fn, "m"), k = c.w->k(), n = c.w->n();
  const size_t mk = mul_sizes(env, fn, m, k), mn = mul_sizes(env, fn, m, n);
  const void* a = elem_data(info, 0, fn, "a", at, mk);
  void* out = elem_data(info, 4, fn, "out", ot, mn);
  const float* bias = typed_data<float>(info, 6, fn, "bias", n, true);
  const int act = act_arg(info, 7, fn);
  c.x = HalfMatmulArgs{m, a, at, k, c.w.get(), out, ot, n, bias, act};
  c.a_bytes = mk * elem_bytes(at);
  c.out_bytes = mn * elem_bytes(ot);
  c.n = n;
  return c;
}

HalfRawCall half_raw_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  const ElemType at = elem_type_arg(info, 1, fn, "a type", true);
  const ElemType bt = elem_type_arg(info, 5, fn, "b type", false);
  const ElemType ot = elem_type_arg(info, 9, fn, "out type", true);
  const size_t m = size_arg(info, 2, fn, "m"), k = size_arg(info, 3, fn, "k"), n = size_arg(info, 6, fn, "n");
  const bool trans_b = bool_arg(info, 7);
  const size_t mk = mul_sizes(env, fn, m, k), kn = mul_sizes(env, fn, k, n), mn = mul_sizes(env, fn, m, n);
  const void* a = elem_data(info, 0, fn, "a", at, mk);
  const uint16_t* b = typed_data<uint16_t>(info, 4, fn, "b", kn);
  void* out = elem_data(info, 8, fn, "out", ot, mn);
  const float* bias = typed_data<float>(info, 10, fn, "bias", n, true);
  const int act = act_arg(info, 11, fn);
  HalfRawCall c{};
  c.x = HalfMatmulRawArgs{m, n, k, a, at, k, b, bt, trans_b ? k : n, trans_b, out, ot, n, bias, act};
  c.a_bytes = mk * elem_bytes(at);
  c.b_bytes = kn * 2;
  c.out_bytes = mn * elem_bytes(ot);
  return c;
}

namespace {

// halfMatmulPacked(a, aType, m, packed, out, outType, bias|null, act) -> kernel name
Napi::Value HalfMatmulPacked(const Napi::CallbackInfo& info) {
  const HalfPackedCall c = half_packed_call(info, "matmul");
  check_sync_write(info.Env(), "matmul", c.x.out, c.out_bytes);  // an async op in flight may own it
  return Napi::String::New(info.Env(), half_matmul(c.x));
}

// halfMatmul(a, aType, m, k, b, bType, n, transB, out, outType, bias|null, act) -> kernel name
Napi::Value HalfMatmul(const Napi::CallbackInfo& info) {
  const HalfRawCall c = half_raw_call(info, "matmul");
  check_sync_write(info.Env(), "matmul", c.x.out, c.out_bytes);
  return Napi::String::New(info.Env(), half_matmul_raw(c.x));
}

// probeHalfPeak(kind, ms) -> GFLOP/s, or null when no allowed ISA has that unit. kind: 0 fp16 FMA, 1 bf16 dot
// (vdpbf16ps), 2 AMX-BF16 tiles.
Napi::Value ProbeHalfPeak(const Napi::CallbackInfo& info) {
  const int kind = int_arg(info, 0);
  if (kind < 0 || kind > 2) throw Napi::RangeError::New(info.Env(), "probeHalfPeak: kind must be 0, 1 or 2, got " + std::to_string(kind));
  const double ms = num_arg(info, 1);
  if (!(ms > 0 && ms <= 60000)) throw Napi::RangeError::New(info.Env(), "probeHalfPeak: ms must be in (0, 60000]");
  const double r = probe_half_peak(HalfProbeKind(kind), ms);
  if (r <= 0) return info.Env().Null();
  return Napi::Number::New(info.Env(), r);
}

}  // namespace

void init_half(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedHalf", PackedHalf::Define(env));
  export_fn<HalfConvert>(env, exports, "halfConvert");
  export_fn<HalfMatmulPacked>(env, exports, "halfMatmulPacked");
  export_fn<HalfMatmul>(env, exports, "halfMatmul");
  export_fn<ProbeHalfPeak>(env, exports, "probeHalfPeak");
}

}  // namespace binding
}  // namespace simdtensor
