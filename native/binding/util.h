// Argument unwrapping shared by the binding files. The TypeScript layer validates first and names the user's
// argument; these re-checks are cheap guards so no pointer is touched on a bad call (they throw, never crash).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace simdtensor {
namespace binding {

template <class T>
struct TypedArrayTraits;
template <> struct TypedArrayTraits<float> { static constexpr napi_typedarray_type kType = napi_float32_array; static constexpr const char* kName = "Float32Array"; };
template <> struct TypedArrayTraits<int8_t> { static constexpr napi_typedarray_type kType = napi_int8_array; static constexpr const char* kName = "Int8Array"; };
template <> struct TypedArrayTraits<uint8_t> { static constexpr napi_typedarray_type kType = napi_uint8_array; static constexpr const char* kName = "Uint8Array"; };
template <> struct TypedArrayTraits<int32_t> { static constexpr napi_typedarray_type kType = napi_int32_array; static constexpr const char* kName = "Int32Array"; };
template <> struct TypedArrayTraits<uint16_t> { static constexpr napi_typedarray_type kType = napi_uint16_array; static constexpr const char* kName = "Uint16Array"; };
template <> struct TypedArrayTraits<uint32_t> { static constexpr napi_typedarray_type kType = napi_uint32_array; static constexpr const char* kName = "Uint32Array"; };

// Raw napi path (no wrapper objects): this is on the per-call hot path of small ops.
template <class T>
inline T* typed_data(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, size_t min_len,
                     bool nullable = false, size_t* len_out = nullptr) {
  napi_env env = info.Env();
  napi_value v = info[i];
  if (nullable) {
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_null || t == napi_undefined) return nullptr;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta)
    throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be a " + TypedArrayTraits<T>::kName);
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset);
  if (type != TypedArrayTraits<T>::kType)
    throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be a " + TypedArrayTraits<T>::kName);
  if (length < min_len)
    throw Napi::RangeError::New(env, std::string(fn) + ": " + arg + " has " + std::to_string(length) +
                                         " elements, needs " + std::to_string(min_len));
  if (length > 0 && data == nullptr)
    throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " is detached");
  if (len_out) *len_out = length;
  return static_cast<T*>(data);
}

inline size_t size_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg,
                       size_t max = (size_t(1) << 40)) {
  napi_env env = info.Env();
  double d = 0;
  if (napi_get_value_double(env, info[i], &d) != napi_ok)
    throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be a number");
  if (!(d >= 0) || d != double(int64_t(d)) || d > double(max))
    throw Napi::RangeError::New(env, std::string(fn) + ": " + arg + " must be a non-negative integer <= " +
                                         std::to_string(max) + ", got " + std::to_string(d));
  return size_t(d);
}

inline int int_arg(const Napi::CallbackInfo& info, size_t i) {
  int32_t v = 0;
  napi_get_value_int32(info.Env(), info[i], &v);
  return v;
}

inline double num_arg(const Napi::CallbackInfo& info, size_t i) {
  double v = 0;
  napi_get_value_double(info.Env(), info[i], &v);
  return v;
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i) {
  bool v = false;
  napi_get_value_bool(info.Env(), info[i], &v);
  return v;
}

// Product of sizes with an overflow check.
inline size_t mul_sizes(napi_env env, const char* fn, size_t a, size_t b) {
  if (a != 0 && b > SIZE_MAX / a) throw Napi::RangeError::New(env, std::string(fn) + ": size overflow");
  return a * b;
}

// Per-environment state (one per main thread or worker): constructors of the wrapped classes.
struct AddonData {
  Napi::FunctionReference packed_f32_ctor;
  // Later families add their constructors here.
  Napi::FunctionReference extra_ctors[16];
  void* async_env = nullptr;  // binding/async.cc: this env's completion queue (created on the first async op)
};
inline AddonData* addon_data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace binding
}  // namespace simdtensor
