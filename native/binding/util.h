// Argument unwrapping shared by the binding files. The TypeScript layer validates first and names the user's
// argument; these re-checks are cheap guards so no pointer is touched on a bad call (they throw, never crash).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "runtime/core/aligned.h"

namespace simdtensor {

class ChunkSteps;  // runtime/core/chunk_steps.h

namespace binding {

template <class T>
struct TypedArrayTraits;
template <> struct TypedArrayTraits<float> { static constexpr napi_typedarray_type kType = napi_float32_array; static constexpr const char* kName = "Float32Array"; };
template <> struct TypedArrayTraits<int8_t> { static constexpr napi_typedarray_type kType = napi_int8_array; static constexpr const char* kName = "Int8Array"; };
template <> struct TypedArrayTraits<uint8_t> { static constexpr napi_typedarray_type kType = napi_uint8_array; static constexpr const char* kName = "Uint8Array"; };
template <> struct TypedArrayTraits<int32_t> { static constexpr napi_typedarray_type kType = napi_int32_array; static constexpr const char* kName = "Int32Array"; };
template <> struct TypedArrayTraits<uint16_t> { static constexpr napi_typedarray_type kType = napi_uint16_array; static constexpr const char* kName = "Uint16Array"; };
template <> struct TypedArrayTraits<uint32_t> { static constexpr napi_typedarray_type kType = napi_uint32_array; static constexpr const char* kName = "Uint32Array"; };
template <> struct TypedArrayTraits<double> { static constexpr napi_typedarray_type kType = napi_float64_array; static constexpr const char* kName = "Float64Array"; };
template <> struct TypedArrayTraits<int64_t> { static constexpr napi_typedarray_type kType = napi_bigint64_array; static constexpr const char* kName = "BigInt64Array"; };

// The error for a TypedArray shorter than needed: a TypeError when its buffer was detached (transferred away),
// else a RangeError with both lengths. Only reached on the error path.
[[noreturn]] inline void throw_too_short(napi_env env, const char* fn, const char* arg, size_t length, size_t min_len,
                                         napi_value ab) {
  bool detached = false;
  if (ab && length == 0) napi_is_detached_arraybuffer(env, ab, &detached);
  if (detached) throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + "'s buffer is detached");
  throw Napi::RangeError::New(env, std::string(fn) + ": " + arg + " has " + std::to_string(length) +
                                       " elements, needs " + std::to_string(min_len));
}

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
  if (length < min_len) throw_too_short(env, fn, arg, length, min_len, ab);
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

// A probe's duration at info[i]: ms in (0, 60000], else a RangeError "fn: ms must be in (0, 60000]".
inline double probe_ms_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const double ms = num_arg(info, i);
  if (!(ms > 0 && ms <= 60000)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": ms must be in (0, 60000]");
  return ms;
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

// The most elements one output or packed weight may hold, and the largest dimension a packer accepts: the same
// limit as MAX_ELEMENTS in src/tensor.ts (2^31 - 1, the TypedArray length limit of 32-bit-length engines).
constexpr size_t kMaxElements = (size_t(1) << 31) - 1;

// "N bytes" for an allocation failure message ("a size that overflows" when the size itself overflowed).
inline std::string oom_text(const std::bad_alloc& e) {
  const auto* o = dynamic_cast<const OutOfMemory*>(&e);
  if (!o) return "out of memory";
  if (o->bytes == SIZE_MAX) return "out of memory (the size overflows)";
  return "out of memory (cannot allocate " + std::to_string(o->bytes) + " bytes)";
}

// Runs an entry point so that an allocation failure (std::bad_alloc from `new`, a vector, or the runtime's
// OutOfMemory) or a std::length_error becomes a RangeError naming `fn`, never std::terminate; any other
// std::exception becomes an Error. Napi::Error passes through unchanged.
template <class F>
inline auto run_guarded(napi_env env, const char* fn, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc& e) {
    throw Napi::RangeError::New(env, std::string(fn) + ": " + oom_text(e));
  } catch (const std::length_error&) {
    throw Napi::RangeError::New(env, std::string(fn) + ": out of memory (a size exceeds what can be allocated)");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
}

// Inside a catch handler: rethrows the exception being handled as run_guarded would convert it (for constructors,
// whose bodies are function-try-blocks).
[[noreturn]] inline void rethrow_guarded(napi_env env, const char* fn) {
  run_guarded(env, fn, [] { throw; });
  throw;
}

// Whether recordSteps is on in this thread's environment (binding/steps.cc sets it with AddonData::recording; an
// environment runs on one thread, so this mirrors it without an instance-data lookup per call).
inline thread_local bool t_recording = false;

// Exports `F` as `name` through run_guarded (every addon function is registered this way). While recordSteps is on,
// only a `Recordable` function runs (the sync op forms, which record their call instead of running it, and the few
// entry points that do the same): any other throws, so a recorded sequence never silently misses a native call that
// ran at record time instead (binding/steps.cc).
template <Napi::Value (*F)(const Napi::CallbackInfo&), bool Recordable = false>
inline void export_fn(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [](const Napi::CallbackInfo& info) -> Napi::Value {
                          const char* fn = static_cast<const char*>(info.Data());
                          if constexpr (!Recordable) {
                            if (t_recording)
                              throw Napi::Error::New(info.Env(), std::string(fn) + ": cannot be recorded (recordSteps is on; call recordSteps(null) first)");
                          }
                          return run_guarded(info.Env(), fn, [&] { return F(info); });
                        },
                        name, const_cast<char*>(name)));
}

// A dimension of a packed weight: at most kMaxElements (packers allocate per-column state and loop over both).
inline size_t pack_dim_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  return size_arg(info, i, fn, arg, kMaxElements);
}

// napi_adjust_external_memory without node-addon-api's fatal check: finalizers and destructors may run while the
// environment is being torn down, where nothing may throw or abort.
inline void adjust_external_memory(napi_env env, int64_t change) {
  int64_t ignored;
  if (env) napi_adjust_external_memory(env, change, &ignored);
}

// A zero-filled ArrayBuffer of `bytes` made by JS's own `new ArrayBuffer(bytes)`: when the memory is not there it
// throws a JS RangeError, where napi_create_arraybuffer would end the process (V8's fatal out-of-memory).
inline Napi::Value new_array_buffer(napi_env env, const char* fn, size_t bytes) {
  napi_value global, ctor, size, ab;
  if (napi_get_global(env, &global) != napi_ok || napi_get_named_property(env, global, "ArrayBuffer", &ctor) != napi_ok ||
      napi_create_double(env, double(bytes), &size) != napi_ok)
    throw Napi::Error::New(env, std::string(fn) + ": cannot create an ArrayBuffer");
  if (napi_new_instance(env, ctor, 1, &size, &ab) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) throw Napi::Error::New(env);  // the JS RangeError, rethrown as is
    throw Napi::RangeError::New(env, std::string(fn) + ": out of memory (cannot allocate " + std::to_string(bytes) + " bytes)");
  }
  return Napi::Value(env, ab);
}

// Per-environment state (one per main thread or worker). The weight handles (binding/op.h) are identified by
// type tags, so no constructor is kept here.
struct AddonData {
  void* async_env = nullptr;  // binding/async.cc: this env's completion queue (created on the first async op)
  Napi::FunctionReference transfer_guard;  // binding/async.cc: marks an ArrayBuffer untransferable (src/native.ts)
  // binding/steps.cc: while set, sync ops are parsed as usual, then recorded into this chunk and lane instead of run.
  std::shared_ptr<ChunkSteps> recording;
  size_t recording_chunk = 0, recording_lane = 0;
};
inline AddonData* addon_data(napi_env env) {
  void* d = nullptr;
  return napi_get_instance_data(env, &d) == napi_ok ? static_cast<AddonData*>(d) : nullptr;
}

// This environment's data while recordSteps is on (binding/steps.cc), else null. The thread-local flag is tested
// first, so a call made while not recording costs no instance-data lookup.
inline AddonData* recording_data(napi_env env) {
  if (!t_recording) return nullptr;
  AddonData* d = addon_data(env);
  return d && d->recording ? d : nullptr;
}

}  // namespace binding
}  // namespace simdtensor
