// N-API glue for the int8 family: packed int8 weights, int8 GEMM with its epilogues, dynamic-quantized linear,
// quantize / dequantize / calibration helpers and the int8 peak probes. No math here.
#include <memory>
#include <string>

#include "binding/async.h"
#include "binding/s8_args.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "kernels/s8-probe/s8-probe.h"
#include "runtime/int8/gemm_driver.h"
#include "runtime/int8/gemv_driver.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/packed_weights.h"
#include "runtime/int8/quantize.h"

namespace simdtensor {
namespace binding {

// An Int8Array or a Uint8Array of at least min_len elements; *is_unsigned says which.
const uint8_t* s8_bytes_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, size_t min_len,
                            bool* is_unsigned) {
  napi_env env = info.Env();
  bool is_ta = false;
  napi_is_typedarray(env, info[i], &is_ta);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab = nullptr;
  if (is_ta) napi_get_typedarray_info(env, info[i], &type, &length, &data, &ab, nullptr);
  if (!is_ta || (type != napi_int8_array && type != napi_uint8_array))
    throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be an Int8Array or a Uint8Array");
  if (length < min_len) throw_too_short(env, fn, arg, length, min_len, ab);
  if (length > 0 && data == nullptr) throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " is detached");
  *is_unsigned = type == napi_uint8_array;
  return static_cast<const uint8_t*>(data);
}

int s8_act_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int act = int_arg(info, i);
  if (act < 0 || act > 2)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": activation code must be 0, 1 or 2, got " + std::to_string(act));
  return act;
}

namespace {

// Tags PackedS8 objects so an unrelated object can never be unwrapped as one.
const napi_type_tag kPackedS8Tag = {0x73386765'6d6d7061ull, 0x636b6564'77656967ull};

// A per-tensor (1 value) or per-index (n values) parameter array; returns the stride (0 or 1).
template <class T>
const T* param_data(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, size_t n,
                    size_t* stride, bool nullable) {
  size_t len = 0;
  const T* p = typed_data<T>(info, i, fn, arg, 0, nullable, &len);
  const napi_valuetype vt = info[i].Type();
  if (vt == napi_null || vt == napi_undefined) {
    *stride = 0;
    if (!nullable) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + arg + " is required");
    return nullptr;
  }
  if (len != 1 && len != n)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + arg + " has " + std::to_string(len) +
                                                " elements, needs 1 or " + std::to_string(n));
  *stride = len == 1 ? 0 : 1;
  // An empty array (n = 0 rows or columns) has no data pointer; it is still given: point at nothing, never read.
  static const T kNothing{};
  return p ? p : &kNothing;
}

// A Float64Array (util.h has no traits for it); returns its data and length.
double* f64_data(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, size_t* len) {
  napi_env env = info.Env();
  bool is_ta = false;
  napi_is_typedarray(env, info[i], &is_ta);
  napi_typedarray_type type = napi_int8_array;
  void* data = nullptr;
  *len = 0;
  if (is_ta) napi_get_typedarray_info(env, info[i], &type, len, &data, nullptr, nullptr);
  if (!is_ta || type != napi_float64_array)
    throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be a Float64Array");
  if (*len == 0 || data == nullptr) throw Napi::RangeError::New(env, std::string(fn) + ": " + arg + " must not be empty");
  return static_cast<double*>(data);
}

class PackedS8 : public Napi::ObjectWrap<PackedS8> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PackedS8",
                       {InstanceAccessor<&PackedS8::K>("k"), InstanceAccessor<&PackedS8::N>("n"),
                        InstanceAccessor<&PackedS8::Bytes>("bytes"), InstanceAccessor<&PackedS8::Unsigned>("unsigned")});
  }
  // new PackedS8(b: Int8Array|Uint8Array, k, n, transB, zeroPoints: Int32Array|null, scales: Float32Array|null)
  explicit PackedS8(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<PackedS8>(info) {
    const char* fn = "packWeights";
    Napi::Env env = info.Env();
    const size_t k = pack_dim_arg(info, 1, fn, "k"), n = pack_dim_arg(info, 2, fn, "n");
    const bool trans_b = bool_arg(info, 3);
    bool uns = false;
    const uint8_t* b = s8_bytes_arg(info, 0, fn, "weights", mul_sizes(env, fn, k, n), &uns);
    size_t zs = 0, ss = 0;
    const int32_t* zp = param_data<int32_t>(info, 4, fn, "zeroPoint", n, &zs, true);
    const float* sc = param_data<float>(info, 5, fn, "scale", n, &ss, true);
    const S8GemmVariant& v = s8_gemm_table.select();
    w_ = std::make_shared<PackedS8Weights>(b, uns, trans_b ? k : n, trans_b, k, n, zp, zp ? (zs ? n : 1) : 0, sc,
                                           sc ? (ss ? n : 1) : 0, v.nr, v.kstep, v.kgroup);
    napi_type_tag_object(env, info.This(), &kPackedS8Tag);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(env, bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), "packWeights");
  }
  ~PackedS8() override { adjust_external_memory(Env(), -bytes_); }
  const std::shared_ptr<PackedS8Weights>& weights() const { return w_; }

 private:
  Napi::Value K(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->k())); }
  Napi::Value N(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->n())); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->bytes())); }
  Napi::Value Unsigned(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), w_->b_unsigned()); }
  std::shared_ptr<PackedS8Weights> w_;
  int64_t bytes_ = 0;
};

}  // namespace

std::shared_ptr<PackedS8Weights> s8_packed_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  napi_env env = info.Env();
  napi_value v = info[i];
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  bool tagged = false;
  if (vt == napi_object) napi_check_object_type_tag(env, v, &kPackedS8Tag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, std::string(fn) + ": weights must be a PackedS8 handle from packWeights()");
  return PackedS8::Unwrap(Napi::Object(env, v))->weights();
}

S8OutArg s8_out_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, size_t mn, unsigned allow) {
  napi_env env = info.Env();
  bool is_ta = false;
  napi_is_typedarray(env, info[i], &is_ta);
  napi_typedarray_type ot = napi_int32_array;
  if (is_ta) napi_get_typedarray_info(env, info[i], &ot, nullptr, nullptr, nullptr, nullptr);
  S8OutArg o{-1, nullptr, 0};
  switch (is_ta ? ot : napi_bigint64_array) {
    case napi_int32_array: o.kind = kS8OutI32; break;
    case napi_float32_array: o.kind = kS8OutF32; break;
    case napi_int8_array: o.kind = kS8OutS8; break;
    case napi_uint8_array: o.kind = kS8OutU8; break;
    default: break;
  }
  if (o.kind < 0 || !(allow & (1u << o.kind))) {
    static const char* const names[] = {"an Int32Array", "a Float32Array", "an Int8Array", "a Uint8Array"};
    std::string list;
    int total = 0;
    for (int kind = 0; kind < 4; kind++) total += (allow >> kind) & 1;
    for (int kind = 0, seen = 0; kind < 4; kind++) {
      if (!(allow & (1u << kind))) continue;
      if (seen++) list += seen == total ? " or " : ", ";
      list += names[kind];
    }
    throw Napi::TypeError::New(env, std::string(fn) + ": out must be " + list);
  }
  switch (o.kind) {
    case kS8OutI32: o.data = typed_data<int32_t>(info, i, fn, "out", mn); o.bytes = mn * 4; break;
    case kS8OutF32: o.data = typed_data<float>(info, i, fn, "out", mn); o.bytes = mn * 4; break;
    case kS8OutS8: o.data = typed_data<int8_t>(info, i, fn, "out", mn); o.bytes = mn; break;
    default: o.data = typed_data<uint8_t>(info, i, fn, "out", mn); o.bytes = mn; break;
  }
  return o;
}

void s8_check_requant(napi_env env, const char* fn, int out_kind, double out_scale, int out_zero) {
  if (out_kind != kS8OutS8 && out_kind != kS8OutU8) return;
  if (!(out_scale > 0) || !(out_scale < 3.4e38))
    throw Napi::RangeError::New(env, std::string(fn) + ": output scale must be a positive finite number, got " + std::to_string(out_scale));
  const int lo = out_kind == kS8OutS8 ? -128 : 0, hi = out_kind == kS8OutS8 ? 127 : 255;
  if (out_zero < lo || out_zero > hi)
    throw Napi::RangeError::New(env, std::string(fn) + ": output zero point " + std::to_string(out_zero) + " is outside [" +
                                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

S8GemmCall s8_gemm_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  S8GemmCall c{};
  c.w = s8_packed_arg(info, 2, fn);
  c.m = size_arg(info, 1, fn, "m");
  c.k = c.w->k();
  c.n = c.w->n();
  c.a = s8_bytes_arg(info, 0, fn, "a", mul_sizes(env, fn, c.m, c.k), &c.a_unsigned);
  c.a_zero = param_data<int32_t>(info, 3, fn, "a zero point", c.m, &c.a_zero_stride, true);
  c.a_zero_len = c.a_zero ? (c.a_zero_stride ? c.m : 1) : 0;
  c.a_scale = param_data<float>(info, 4, fn, "a scale", c.m, &c.a_scale_stride, true);
  c.a_scale_len = c.a_scale ? (c.a_scale_stride ? c.m : 1) : 0;
  c.out = s8_out_arg(info, 5, fn, mul_sizes(env, fn, c.m, c.n));
  if (c.out.kind != kS8OutI32 && !c.a_scale)
    throw Napi::TypeError::New(env, std::string(fn) + ": a scale is required for float32 and int8 outputs");
  c.bias = typed_data<float>(info, 6, fn, "bias", c.n, true);
  c.act = s8_act_arg(info, 7, fn);
  const double out_scale = num_arg(info, 8);
  c.out_zero = int_arg(info, 9);
  s8_check_requant(env, fn, c.out.kind, out_scale, c.out_zero);
  c.out_scale = float(out_scale);
  return c;
}

S8GemmArgs s8_gemm_args(const S8GemmVariant& v, const S8GemmCall& c) {
  S8GemmArgs g{};
  g.m = c.m;
  g.n = c.n;
  g.k = c.k;
  g.a = c.a;
  g.lda = c.k;
  g.a_unsigned = c.a_unsigned;
  g.a_zero = c.a_zero;
  g.a_zero_stride = c.a_zero_stride;
  g.a_scale = c.a_scale;
  g.a_scale_stride = c.a_scale_stride;
  s8_gemm_bind_weights(v, *c.w, &g);
  g.out = c.out.kind;
  g.c = c.out.data;
  g.ldc = c.n;
  g.bias = c.bias;
  g.act = c.act;
  g.out_scale = c.out_scale;
  g.out_zero = c.out_zero;
  return g;
}

S8LinearDynamicCall s8_linear_dynamic_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  S8LinearDynamicCall c{};
  c.w = s8_packed_arg(info, 2, fn);
  c.m = size_arg(info, 1, fn, "m");
  c.k = c.w->k();
  c.n = c.w->n();
  c.x = typed_data<float>(info, 0, fn, "x", mul_sizes(env, fn, c.m, c.k));
  c.out = typed_data<float>(info, 3, fn, "out", mul_sizes(env, fn, c.m, c.n));
  c.bias = typed_data<float>(info, 4, fn, "bias", c.n, true);
  c.act = s8_act_arg(info, 5, fn);
  return c;
}

namespace {

// s8Gemm(a: Int8Array|Uint8Array, m, packed, aZero: Int32Array|null, aScale: Float32Array|null,
//        out: Int32Array|Float32Array|Int8Array|Uint8Array, bias|null, act, outScale, outZero) -> kernel name
// The output kind follows out's type: int32 (exact), float32 (dequantized), int8/uint8 (requantized).
Napi::Value S8Gemm(const Napi::CallbackInfo& info) {
  const S8GemmCall c = s8_gemm_call(info, "matmul");
  check_sync_write(info.Env(), "matmul", c.out.data, c.out.bytes);  // an async op in flight may own it
  const S8GemmVariant& v = s8_gemm_table.select();
  s8_gemm_run(v, s8_gemm_args(v, c));
  return Napi::String::New(info.Env(), s8_kernel_for_m(v, c.m));
}

// s8LinearDynamic(x: Float32Array, m, packed, out: Float32Array, bias|null, act) -> kernel name
Napi::Value S8LinearDynamic(const Napi::CallbackInfo& info) {
  const S8LinearDynamicCall c = s8_linear_dynamic_call(info, "linear");
  check_sync_write(info.Env(), "linear", c.out, c.m * c.n * sizeof(float));
  const S8GemmVariant& v = s8_gemm_table.select();
  S8LinearDynamicArgs a{c.m, c.x, c.k, c.w.get(), c.bias, c.act, c.out, c.n};
  s8_linear_dynamic_run(v, quantize_table.select(), a);
  return Napi::String::New(info.Env(), s8_kernel_for_m(v, c.m));
}

QuantTensorShape shape_args(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  QuantTensorShape s{size_arg(info, i, fn, "outer"), size_arg(info, i + 1, fn, "channels"),
                     size_arg(info, i + 2, fn, "inner")};
  mul_sizes(info.Env(), fn, mul_sizes(info.Env(), fn, s.outer, s.channels), s.inner);
  return s;
}

// quantize(x: Float32Array, out: Int8Array|Uint8Array, outer, channels, inner, scales, zeros, symmetric)
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  const char* fn = "quantize";
  const QuantTensorShape s = shape_args(info, 2, fn);
  const float* x = typed_data<float>(info, 0, fn, "t", s.size());
  bool uns = false;
  uint8_t* out = const_cast<uint8_t*>(s8_bytes_arg(info, 1, fn, "out", s.size(), &uns));
  const float* scales = typed_data<float>(info, 5, fn, "scale", s.channels);
  const int32_t* zeros = typed_data<int32_t>(info, 6, fn, "zeroPoint", s.channels);
  int32_t qmin, qmax;
  quant_range(uns, bool_arg(info, 7), &qmin, &qmax);
  for (size_t c = 0; c < s.channels; c++) {
    if (!(scales[c] > 0) || !(scales[c] < 3.4e38f))
      throw Napi::RangeError::New(info.Env(), "quantize: scale[" + std::to_string(c) + "] must be a positive finite number, got " + std::to_string(scales[c]));
    if (zeros[c] < qmin || zeros[c] > qmax)
      throw Napi::RangeError::New(info.Env(), "quantize: zeroPoint[" + std::to_string(c) + "] (" + std::to_string(zeros[c]) +
                                                  ") is outside [" + std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
  }
  quantize_tensor(quantize_table.select(), s, x, scales, zeros, qmin, qmax, out);
  return info.Env().Undefined();
}

// dequantize(q: Int8Array|Uint8Array, out: Float32Array, outer, channels, inner, scales, zeros)
Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  const char* fn = "dequantize";
  const QuantTensorShape s = shape_args(info, 2, fn);
  bool uns = false;
  const uint8_t* q = s8_bytes_arg(info, 0, fn, "q", s.size(), &uns);
  float* out = typed_data<float>(info, 1, fn, "out", s.size());
  check_sync_write(info.Env(), fn, out, s.size() * sizeof(float));  // an async op in flight may own it
  const float* scales = typed_data<float>(info, 5, fn, "scale", s.channels);
  const int32_t* zeros = typed_data<int32_t>(info, 6, fn, "zeroPoint", s.channels);
  dequantize_tensor(quantize_table.select(), s, q, uns, scales, zeros, out);
  return info.Env().Undefined();
}

// quantMinMax(x: Float32Array, outer, channels, inner, mins: Float32Array, maxs: Float32Array) -> NaN seen
Napi::Value QuantMinMax(const Napi::CallbackInfo& info) {
  const char* fn = "quantize";
  const QuantTensorShape s = shape_args(info, 1, fn);
  const float* x = typed_data<float>(info, 0, fn, "t", s.size());
  float* mins = typed_data<float>(info, 4, fn, "mins", s.channels);
  float* maxs = typed_data<float>(info, 5, fn, "maxs", s.channels);
  return Napi::Boolean::New(info.Env(), minmax_tensor(quantize_table.select(), s, x, mins, maxs));
}

// quantParams(mins, maxs, count, unsigned, symmetric, scalesOut: Float32Array, zerosOut: Int32Array)
Napi::Value QuantParamsFn(const Napi::CallbackInfo& info) {
  const char* fn = "quantize";
  const size_t n = size_arg(info, 2, fn, "count");
  const float* mins = typed_data<float>(info, 0, fn, "mins", n);
  const float* maxs = typed_data<float>(info, 1, fn, "maxs", n);
  const bool uns = bool_arg(info, 3), sym = bool_arg(info, 4);
  float* scales = typed_data<float>(info, 5, fn, "scales", n);
  int32_t* zeros = typed_data<int32_t>(info, 6, fn, "zeros", n);
  for (size_t i = 0; i < n; i++) {
    const QuantParams p = quant_choose_params(mins[i], maxs[i], uns, sym);
    scales[i] = p.scale;
    zeros[i] = p.zero;
  }
  return info.Env().Undefined();
}

// quantHistogram(x: Float32Array, n, lo, hi, counts: Float64Array) (bins = counts.length)
Napi::Value QuantHistogram(const Napi::CallbackInfo& info) {
  const char* fn = "Calibrator";
  const size_t n = size_arg(info, 1, fn, "n");
  const float* x = typed_data<float>(info, 0, fn, "t", n);
  size_t bins = 0;
  double* counts = f64_data(info, 4, fn, "counts", &bins);
  quant_histogram(n, x, float(num_arg(info, 2)), float(num_arg(info, 3)), bins, counts);
  return info.Env().Undefined();
}

// quantizeRows(x: Float32Array, m, k, out: Int8Array|Uint8Array, scales: Float32Array, zeros: Int32Array)
//   -> number of rows holding NaN/±Inf (their scale is NaN)
Napi::Value QuantizeRows(const Napi::CallbackInfo& info) {
  const char* fn = "quantizeDynamic";
  napi_env env = info.Env();
  const size_t m = size_arg(info, 1, fn, "m"), k = size_arg(info, 2, fn, "k");
  const float* x = typed_data<float>(info, 0, fn, "x", mul_sizes(env, fn, m, k));
  bool uns = false;
  uint8_t* out = const_cast<uint8_t*>(s8_bytes_arg(info, 3, fn, "out", m * k, &uns));
  float* scales = typed_data<float>(info, 4, fn, "scales", m);
  int32_t* zeros = typed_data<int32_t>(info, 5, fn, "zeros", m);
  std::unique_ptr<uint8_t[]> bad(new uint8_t[m ? m : 1]);
  quantize_rows_dynamic(quantize_table.select(), m, k, x, k, uns, out, k, scales, zeros, bad.get());
  size_t nbad = 0;
  for (size_t i = 0; i < m; i++) nbad += bad[i];
  return Napi::Number::New(env, double(nbad));
}

Napi::Value ProbePeak(const Napi::CallbackInfo& info, bool amx, const char* fn) {
  const double ms = num_arg(info, 0);
  if (!(ms > 0 && ms <= 60000)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": ms must be in (0, 60000]");
  const char* which = nullptr;
  const double gops = probe_s8_peak(amx, ms, &which);
  if (!which) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("gops", gops);
  o.Set("kernel", which);
  return o;
}
// probeVnniPeak(ms) -> { gops, kernel } of the best allowed int8 dot-product unit (vpdpbusd zmm/ymm, SDOT), or null.
Napi::Value ProbeVnniPeak(const Napi::CallbackInfo& info) { return ProbePeak(info, false, "probeVnniPeak"); }
// probeAmxInt8Peak(ms) -> { gops, kernel } of AMX-INT8 tiles, or null without AMX (or without the tile permission).
Napi::Value ProbeAmxInt8Peak(const Napi::CallbackInfo& info) { return ProbePeak(info, true, "probeAmxInt8Peak"); }

}  // namespace

void init_s8(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedS8", PackedS8::Define(env));
  export_fn<S8Gemm>(env, exports, "s8Gemm");
  export_fn<S8LinearDynamic>(env, exports, "s8LinearDynamic");
  export_fn<Quantize>(env, exports, "quantize");
  export_fn<Dequantize>(env, exports, "dequantize");
  export_fn<QuantMinMax>(env, exports, "quantMinMax");
  export_fn<QuantParamsFn>(env, exports, "quantParams");
  export_fn<QuantHistogram>(env, exports, "quantHistogram");
  export_fn<QuantizeRows>(env, exports, "quantizeRows");
  export_fn<ProbeVnniPeak>(env, exports, "probeVnniPeak");
  export_fn<ProbeAmxInt8Peak>(env, exports, "probeAmxInt8Peak");
}

}  // namespace binding
}  // namespace simdtensor
