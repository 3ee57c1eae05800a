// N-API glue for the ONNX runtime's native helpers (native/runtime/onnx/ops.h): argument checks only, no math.
#include <napi.h>

#include <algorithm>
#include <string>

#include "binding/op.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "runtime/f32/attention_driver.h"
#include "kernels/quantize/quantize.h"
#include "runtime/onnx/ops.h"

namespace simdtensor {
namespace binding {

namespace {

// onnxDynamicQuantize(x: Float32Array, out: Uint8Array, params: Float32Array(2)) -> undefined;
// params receives [scale, zero point].
Napi::Value OnnxDynamicQuantize(const Napi::CallbackInfo& info) {
  const char* fn = "DynamicQuantizeLinear";
  size_t n = 0;
  const float* x = typed_data<float>(info, 0, fn, "x", 0, false, &n);
  uint8_t* out = typed_data<uint8_t>(info, 1, fn, "out", n);
  float* params = typed_data<float>(info, 2, fn, "params", 2);
  float scale = 1.0f;
  int32_t zp = 0;
  onnx_dynamic_quantize_u8(x, n, out, &scale, &zp);
  params[0] = scale;
  params[1] = float(zp);
  return info.Env().Undefined();
}

// onnxDynamicQuantizeFast(x: Float32Array, y: Uint8Array, scale: Float32Array, zeroPoint: Uint8Array) -> undefined:
// the `fast-dynamic-quantize` DynamicQuantize (runtime/onnx/ops.h) of all of x into y, its scale into scale[0] and its
// zero point into zeroPoint[0]. Recorded (recordSteps) like a sync op: the quantizer variant chosen now.
Napi::Value OnnxDynamicQuantizeFast(const Napi::CallbackInfo& info) {
  const char* fn = "DynamicQuantize";
  size_t n = 0;
  const float* x = typed_data<float>(info, 0, fn, "x", 0, false, &n);
  uint8_t* y = typed_data<uint8_t>(info, 1, fn, "y", n);
  float* s = typed_data<float>(info, 2, fn, "scale", 1);
  uint8_t* z = typed_data<uint8_t>(info, 3, fn, "zeroPoint", 1);
  const QuantizeVariant* qv = &quantize_table.select();
  auto run = [qv, x, n, y, s, z] {
    int32_t zp = 0;
    onnx_dynamic_quantize_fast_u8(*qv, x, n, y, s, &zp);
    z[0] = uint8_t(zp);
  };
  if (AddonData* d = recording_data(info.Env())) record_step(*d, run);
  else run();
  return info.Env().Undefined();
}

// onnxWidenI32(x: Uint8Array|Int8Array, out: Int32Array) -> undefined: out[i] = x[i] for every element of x (out at
// least as long). Recorded like a sync op.
template <class T>
Napi::Value widen_i32(const Napi::CallbackInfo& info, const char* fn) {
  size_t n = 0;
  const T* x = typed_data<T>(info, 0, fn, "x", 0, false, &n);  // a wrong type's TypeError names Int8Array
  int32_t* out = typed_data<int32_t>(info, 1, fn, "out", n);
  if (AddonData* d = recording_data(info.Env())) record_step(*d, [x, n, out] { onnx_widen_i32(x, n, out); });
  else onnx_widen_i32(x, n, out);
  return info.Env().Undefined();
}
Napi::Value OnnxWidenI32(const Napi::CallbackInfo& info) {
  napi_typedarray_type type = napi_int8_array;
  bool is_ta = false;
  napi_is_typedarray(info.Env(), info[0], &is_ta);
  if (is_ta) napi_get_typedarray_info(info.Env(), info[0], &type, nullptr, nullptr, nullptr, nullptr);
  return type == napi_uint8_array ? widen_i32<uint8_t>(info, "onnxWidenI32") : widen_i32<int8_t>(info, "onnxWidenI32");
}

// onnxTranspose(x: Float32Array|Int32Array, out: same, shape: Int32Array (out dims), xstride: Int32Array) -> undefined
Napi::Value OnnxTranspose(const Napi::CallbackInfo& info) {
  const char* fn = "Transpose";
  napi_env env = info.Env();
  size_t rank = 0, rank2 = 0;
  const int32_t* shape = typed_data<int32_t>(info, 2, fn, "shape", 0, false, &rank);
  const int32_t* xs = typed_data<int32_t>(info, 3, fn, "xstride", 0, false, &rank2);
  if (rank > 8 || rank2 != rank) throw Napi::RangeError::New(env, std::string(fn) + ": rank must be <= 8 and match xstride");
  size_t sh[8], st[8], total = 1, reach = 0;
  for (size_t d = 0; d < rank; d++) {
    if (shape[d] < 0 || xs[d] < 0) throw Napi::RangeError::New(env, std::string(fn) + ": negative shape or stride");
    sh[d] = size_t(shape[d]);
    st[d] = size_t(xs[d]);
    total *= sh[d];
    if (sh[d] > 0) reach += (sh[d] - 1) * st[d];
  }
  bool is_f32 = false;
  napi_typedarray_type type;
  napi_get_typedarray_info(env, info[0], &type, nullptr, nullptr, nullptr, nullptr);
  is_f32 = type == napi_float32_array;
  const void* x;
  void* out;
  if (is_f32) {
    x = typed_data<float>(info, 0, fn, "x", total ? reach + 1 : 0);
    out = typed_data<float>(info, 1, fn, "out", total);
  } else {
    x = typed_data<int32_t>(info, 0, fn, "x", total ? reach + 1 : 0);
    out = typed_data<int32_t>(info, 1, fn, "out", total);
  }
  const auto* x4 = static_cast<const uint32_t*>(x);
  auto* o4 = static_cast<uint32_t*>(out);
  if (AddonData* d = recording_data(env)) {
    // recordSteps is on: run later, by runSteps (the shape and strides copied: the closure owns them).
    struct Dims { size_t sh[8], st[8]; } dims{};
    std::copy(sh, sh + rank, dims.sh);
    std::copy(st, st + rank, dims.st);
    record_step(*d, [x4, o4, dims, rank] { onnx_transpose_4b(x4, o4, dims.sh, dims.st, rank); });
    return info.Env().Undefined();
  }
  onnx_transpose_4b(x4, o4, sh, st, rank);
  return info.Env().Undefined();
}

// onnxGather(x: Uint8Array, out: Uint8Array, idx: Int32Array|Float64Array, outer, dim, rowBytes) -> number: the rows
// of x (outer × dim rows of rowBytes bytes) picked by idx into out; returns idx.length, or the position of the first
// index outside [-dim, dim) (nothing written: the caller names the node and the index).
Napi::Value OnnxGather(const Napi::CallbackInfo& info) {
  const char* fn = "Gather";
  napi_env env = info.Env();
  const size_t outer = size_arg(info, 3, fn, "outer"), dim = size_arg(info, 4, fn, "dim");
  const size_t row = size_arg(info, 5, fn, "rowBytes");
  napi_typedarray_type type = napi_int8_array;
  bool is_ta = false;
  napi_is_typedarray(env, info[2], &is_ta);
  if (is_ta) napi_get_typedarray_info(env, info[2], &type, nullptr, nullptr, nullptr, nullptr);
  size_t k = 0;
  const int32_t* i32 = nullptr;
  const double* i64 = nullptr;
  if (type == napi_float64_array) i64 = typed_data<double>(info, 2, fn, "idx", 0, false, &k);
  else i32 = typed_data<int32_t>(info, 2, fn, "idx", 0, false, &k);
  const uint8_t* x = typed_data<uint8_t>(info, 0, fn, "x", mul_sizes(env, fn, mul_sizes(env, fn, outer, dim), row));
  uint8_t* out = typed_data<uint8_t>(info, 1, fn, "out", mul_sizes(env, fn, mul_sizes(env, fn, outer, k), row));
  const size_t r = i64 ? onnx_gather_rows(x, outer, dim, row, i64, k, out) : onnx_gather_rows(x, outer, dim, row, i32, k, out);
  return Napi::Number::New(env, double(r));
}

// onnxInt64ToF64(src: BigInt64Array, dst: Float64Array) -> undefined: dst[i] = Number(src[i]) for every element of
// src (dst at least as long), without one BigInt object per element.
Napi::Value OnnxInt64ToF64(const Napi::CallbackInfo& info) {
  const char* fn = "onnxInt64ToF64";
  size_t n = 0;
  const int64_t* src = typed_data<int64_t>(info, 0, fn, "src", 0, false, &n);
  double* dst = typed_data<double>(info, 1, fn, "dst", n);
  onnx_int64_to_f64(src, n, dst);
  return info.Env().Undefined();
}

// onnxAttention(q, k, v, mask: Float32Array|null, out, geom: Int32Array(25), scale) -> undefined
// geom = [batch, heads, seqQ, seqK, dk, dv, then offset, batch, row and head strides of q, k and v (4 each), the
// batch, row and head strides of out (3), the mask's batch, head, row and column strides (4; 0 = broadcast)].
Napi::Value OnnxAttention(const Napi::CallbackInfo& info) {
  const char* fn = "Attention";
  napi_env env = info.Env();
  size_t glen = 0;
  const int32_t* g = typed_data<int32_t>(info, 5, fn, "geom", 25, false, &glen);
  if (glen != 25) throw Napi::RangeError::New(env, std::string(fn) + ": geom must hold 25 values");
  size_t d[25];
  for (size_t i = 0; i < 25; i++) {
    if (g[i] < 0) throw Napi::RangeError::New(env, std::string(fn) + ": geom values must be >= 0");
    d[i] = size_t(g[i]);
  }
  const size_t batch = d[0], heads = d[1], sq = d[2], sk = d[3], dk = d[4], dv = d[5];
  const bool empty = batch == 0 || heads == 0;
  // Elements an operand needs: offset + the last (batch, row, head) start + its width.
  auto reach = [&](const size_t* s, size_t rows, size_t width) -> size_t {
    if (empty || rows == 0 || width == 0) return 0;
    return s[0] + (batch - 1) * s[1] + (rows - 1) * s[2] + (heads - 1) * s[3] + width;
  };
  const float* q = typed_data<float>(info, 0, fn, "q", reach(d + 6, sq, dk));
  const float* k = typed_data<float>(info, 1, fn, "k", reach(d + 10, sk, dk));
  const float* v = typed_data<float>(info, 2, fn, "v", reach(d + 14, sk, dv));
  const size_t oz[4] = {0, d[18], d[19], d[20]};
  float* out = typed_data<float>(info, 4, fn, "out", reach(oz, sq, dv));
  F32AttentionArgs a = f32_attention_args({batch, heads, sq, sk, dk, dv}, {q + d[6], d[7], d[8], d[9]},
                                          {k + d[10], d[11], d[12], d[13]}, {v + d[14], d[15], d[16], d[17]}, out,
                                          d[18], d[19], d[20]);
  if (d[24] > 1) throw Napi::RangeError::New(env, std::string(fn) + ": the mask's column stride must be 0 or 1");
  size_t mreach = 0;
  if (!empty && sq > 0 && sk > 0) mreach = (batch - 1) * d[21] + (heads - 1) * d[22] + (sq - 1) * d[23] + (sk - 1) * d[24] + 1;
  a.mask = typed_data<float>(info, 3, fn, "mask", mreach, true);
  for (size_t i = 0; i < 4; i++) a.ms[i] = d[21 + i];
  a.scale = float(num_arg(info, 6));
  if (AddonData* rd = recording_data(env)) {
    // recordSteps is on: run later, by runSteps, with the kernels selected now (as a recorded sync op does).
    const auto& gv = f32_gemm_table.select();
    const auto& ev = f32_eltwise_table.select();
    record_step(*rd, [a, &gv, &ev] { f32_attention_run(gv, ev, a); });
    return info.Env().Undefined();
  }
  f32_attention_run(f32_gemm_table.select(), f32_eltwise_table.select(), a);
  return info.Env().Undefined();
}

}  // namespace

void init_onnx(Napi::Env env, Napi::Object exports) {
  export_fn<OnnxDynamicQuantize>(env, exports, "onnxDynamicQuantize");
  export_fn<OnnxTranspose, true>(env, exports, "onnxTranspose");
  export_fn<OnnxGather>(env, exports, "onnxGather");
  export_fn<OnnxInt64ToF64>(env, exports, "onnxInt64ToF64");
  export_fn<OnnxDynamicQuantizeFast, true>(env, exports, "onnxDynamicQuantizeFast");
  export_fn<OnnxWidenI32, true>(env, exports, "onnxWidenI32");
  export_fn<OnnxAttention, true>(env, exports, "onnxAttention");
}

}  // namespace binding
}  // namespace simdtensor
