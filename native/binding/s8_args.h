// Argument parsing shared by the sync int8 entry points (s8.cc) and their async forms (s8_async.cc): one place
// validates each call shape, so both forms accept and refuse exactly the same arguments. No math here.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "binding/util.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/int8/gemm_driver.h"

namespace simdtensor {

class PackedS8Weights;

namespace binding {

// An Int8Array or a Uint8Array of at least min_len elements; *is_unsigned says which.
const uint8_t* s8_bytes_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, size_t min_len,
                            bool* is_unsigned);

// The PackedS8 handle at info[i] (a TypeError for anything else).
std::shared_ptr<PackedS8Weights> s8_packed_arg(const Napi::CallbackInfo& info, size_t i, const char* fn);

// An int8 GEMM output: Int32Array (exact), Float32Array (dequantized), Int8Array / Uint8Array (requantized).
struct S8OutArg {
  int kind;     // S8GemmOut
  void* data;
  size_t bytes;  // m·n elements of the kind's size
};
// `allow` is a bit mask of 1 << kind; other kinds are a TypeError naming the allowed ones.
constexpr unsigned kS8AllOuts = 0xF;
S8OutArg s8_out_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, size_t mn, unsigned allow = kS8AllOuts);

// RangeErrors for a requantized output's scale / zero point (no-op for int32 / float32 outputs).
void s8_check_requant(napi_env env, const char* fn, int out_kind, double out_scale, int out_zero);

// s8Gemm(a, m, packed, aZero|null, aScale|null, out, bias|null, act, outScale, outZero) at info[0..9].
struct S8GemmCall {
  std::shared_ptr<PackedS8Weights> w;
  size_t m, n, k;
  const uint8_t* a;
  bool a_unsigned;
  const int32_t* a_zero;  // null or a_zero_len values (1 or m), stride a_zero_stride
  size_t a_zero_stride, a_zero_len;
  const float* a_scale;
  size_t a_scale_stride, a_scale_len;
  S8OutArg out;
  const float* bias;  // n floats or null
  int act;
  float out_scale;
  int32_t out_zero;
};
S8GemmCall s8_gemm_call(const Napi::CallbackInfo& info, const char* fn);
// The driver's arguments for variant v (binds the weights' panels for v: re-lays them on first use; any thread).
S8GemmArgs s8_gemm_args(const S8GemmVariant& v, const S8GemmCall& c);

// s8LinearDynamic(x, m, packed, out: Float32Array, bias|null, act) at info[0..5].
struct S8LinearDynamicCall {
  std::shared_ptr<PackedS8Weights> w;
  size_t m, n, k;
  const float* x;
  float* out;
  const float* bias;
  int act;
};
S8LinearDynamicCall s8_linear_dynamic_call(const Napi::CallbackInfo& info, const char* fn);

// The activation code (0 none, 1 relu, 2 gelu) at info[i].
int s8_act_arg(const Napi::CallbackInfo& info, size_t i, const char* fn);

}  // namespace binding
}  // namespace simdtensor
