// N-API glue for the ONNX runtime's native helpers (native/runtime/onnx/ops.h): argument checks only, no math.
#include <napi.h>

#include <string>

#include "binding/util.h"
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
  onnx_transpose_4b(static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out), sh, st, rank);
  return info.Env().Undefined();
}

}  // namespace

void init_onnx(Napi::Env env, Napi::Object exports) {
  export_fn<OnnxDynamicQuantize>(env, exports, "onnxDynamicQuantize");
  export_fn<OnnxTranspose>(env, exports, "onnxTranspose");
}

}  // namespace binding
}  // namespace simdtensor
