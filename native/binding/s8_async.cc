// Async forms of the int8 GEMM entry points over binding/async.h: the same argument parsing as the sync ones
// (binding/s8_args.h), the same runtime drivers, run on the pool. No math here.
#include <memory>
#include <string>

#include "binding/async.h"
#include "binding/s8_args.h"
#include "cpu/dispatch.h"
#include "kernels/quantize/quantize.h"
#include "runtime/core/aligned.h"
#include "runtime/int8/gemm_driver.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/packed_weights.h"

namespace simdtensor {
namespace binding {
namespace {

double gemm_ops(size_t m, size_t n, size_t k) { return 2.0 * double(m) * double(n) * double(k); }

// Pins and registers everything an S8GemmCall reads and writes (info indices as in s8Gemm).
void hold_gemm_call(AsyncOp& op, const Napi::CallbackInfo& info, const S8GemmCall& c) {
  op.pin(info[0], "a");
  op.reads(c.a, c.m * c.k, "a");
  op.pin(info[2]);
  op.keep(c.w);
  if (c.a_zero) {
    op.pin(info[3], "a zero point");
    op.reads(c.a_zero, c.a_zero_len * sizeof(int32_t), "a zero point");
  }
  if (c.a_scale) {
    op.pin(info[4], "a scale");
    op.reads(c.a_scale, c.a_scale_len * sizeof(float), "a scale");
  }
  op.pin(info[5], "out");
  op.writes(c.out.data, c.out.bytes, "out");
  if (c.bias) {
    op.pin(info[6], "bias");
    op.reads(c.bias, c.n * sizeof(float), "bias");
  }
}

// s8GemmAsync(a, m, packed, aZero|null, aScale|null, out, bias|null, act, outScale, outZero, id) -> Promise<out>
// Every output kind of s8Gemm: int32 (exact), float32 (dequantized), int8/uint8 (requantized).
Napi::Value S8GemmAsync(const Napi::CallbackInfo& info) {
  const char* fn = "matmulAsync";
  AsyncOp op(info, fn, 10);
  const S8GemmCall c = s8_gemm_call(info, fn);
  hold_gemm_call(op, info, c);
  const S8GemmVariant& v = s8_gemm_table.select();
  return op.submit([&v, c] { s8_gemm_run(v, s8_gemm_args(v, c)); }, info[5], gemm_ops(c.m, c.n, c.k));
}

// s8MatmulAsync(a, m, k, b: Int8Array|Uint8Array, n, transB, out: Int32Array, id) -> Promise<out>
// The exact int32 product with one-off weights: B is packed on the worker (scale 1, zero point 0, as the sync
// matmul packs it).
Napi::Value S8MatmulAsync(const Napi::CallbackInfo& info) {
  const char* fn = "matmulAsync";
  napi_env env = info.Env();
  AsyncOp op(info, fn, 7);
  const size_t m = size_arg(info, 1, fn, "m"), k = size_arg(info, 2, fn, "k"), n = size_arg(info, 4, fn, "n");
  const bool trans_b = bool_arg(info, 5);
  bool a_uns = false, b_uns = false;
  const uint8_t* a = s8_bytes_arg(info, 0, fn, "a", mul_sizes(env, fn, m, k), &a_uns);
  const uint8_t* b = s8_bytes_arg(info, 3, fn, "b", mul_sizes(env, fn, k, n), &b_uns);
  const S8OutArg out = s8_out_arg(info, 6, fn, mul_sizes(env, fn, m, n), 1u << kS8OutI32);
  op.pin(info[0], "a");
  op.reads(a, m * k, "a");
  op.pin(info[3], "b");
  op.reads(b, k * n, "b");
  op.pin(info[6], "out");
  op.writes(out.data, out.bytes, "out");
  const S8GemmVariant& v = s8_gemm_table.select();
  return op.submit(
      [&v, m, n, k, a, a_uns, b, b_uns, trans_b, out] {
        if (m == 0 || n == 0) return;  // empty output: skip packing a B whose size no buffer bounds
        const int32_t zero = 0;
        const float one = 1.0f;
        S8GemmCall c{};
        c.w = std::make_shared<PackedS8Weights>(b, b_uns, trans_b ? k : n, trans_b, k, n, &zero, 1, &one, 1, v.nr,
                                                v.kstep, v.kgroup);
        c.m = m;
        c.n = n;
        c.k = k;
        c.a = a;
        c.a_unsigned = a_uns;
        c.out = out;
        c.out_scale = 1.0f;
        s8_gemm_run(v, s8_gemm_args(v, c));
      },
      info[6], gemm_ops(m, n, k) + double(k) * double(n));
}

// s8LinearDynamicAsync(x: Float32Array, m, packed, out: Float32Array, bias|null, act, id) -> Promise<out>
// x is quantized per row on the worker (inside the driver), then the int8 GEMM dequantizes into out.
Napi::Value S8LinearDynamicAsync(const Napi::CallbackInfo& info) {
  const char* fn = "linearAsync";
  AsyncOp op(info, fn, 6);
  const S8LinearDynamicCall c = s8_linear_dynamic_call(info, fn);
  op.pin(info[0], "x");
  op.reads(c.x, c.m * c.k * sizeof(float), "x");
  op.pin(info[2]);
  op.keep(c.w);
  op.pin(info[3], "out");
  op.writes(c.out, c.m * c.n * sizeof(float), "out");
  if (c.bias) {
    op.pin(info[4], "bias");
    op.reads(c.bias, c.n * sizeof(float), "bias");
  }
  const S8GemmVariant& v = s8_gemm_table.select();
  const QuantizeVariant& qv = quantize_table.select();
  return op.submit(
      [&v, &qv, c] {
        s8_linear_dynamic_run(v, qv, S8LinearDynamicArgs{c.m, c.x, c.k, c.w.get(), c.bias, c.act, c.out, c.n});
      },
      info[3], gemm_ops(c.m, c.n, c.k));
}

// s8LinearDynamicQAsync(x: Float32Array, m, packed, out: Int8Array|Uint8Array, bias|null, act, outScale, outZero,
//                       xUnsigned, rowScales: Float32Array(m), rowZeros: Int32Array(m), id) -> Promise<out>
// The requantized-output linear over f32 activations: on the worker, x is quantized per row (u8 asymmetric when
// xUnsigned, else s8 symmetric: what quantizeDynamic does) into scratch, the row parameters into rowScales /
// rowZeros, then the int8 GEMM requantizes into out. A row holding NaN or ±Inf gets a NaN scale and the GEMM is
// skipped (out untouched): the caller checks rowScales and raises quantizeDynamic's error.
Napi::Value S8LinearDynamicQAsync(const Napi::CallbackInfo& info) {
  const char* fn = "linearAsync";
  napi_env env = info.Env();
  AsyncOp op(info, fn, 11);
  S8GemmCall c{};
  c.w = s8_packed_arg(info, 2, fn);
  c.m = size_arg(info, 1, fn, "m");
  c.k = c.w->k();
  c.n = c.w->n();
  const float* x = typed_data<float>(info, 0, fn, "x", mul_sizes(env, fn, c.m, c.k));
  c.out = s8_out_arg(info, 3, fn, mul_sizes(env, fn, c.m, c.n), (1u << kS8OutS8) | (1u << kS8OutU8));
  c.bias = typed_data<float>(info, 4, fn, "bias", c.n, true);
  c.act = s8_act_arg(info, 5, fn);
  const double out_scale = num_arg(info, 6);
  c.out_zero = int_arg(info, 7);
  s8_check_requant(env, fn, c.out.kind, out_scale, c.out_zero);
  c.out_scale = float(out_scale);
  c.a_unsigned = bool_arg(info, 8);
  float* row_scales = op.out<float>(9, "rowScales", c.m);
  int32_t* row_zeros = op.out<int32_t>(10, "rowZeros", c.m);
  c.a_scale = row_scales;
  c.a_scale_stride = 1;
  c.a_zero = row_zeros;
  c.a_zero_stride = 1;
  op.pin(info[0], "x");
  op.reads(x, c.m * c.k * sizeof(float), "x");
  op.pin(info[2]);
  op.keep(c.w);
  op.pin(info[3], "out");
  op.writes(c.out.data, c.out.bytes, "out");
  if (c.bias) {
    op.pin(info[4], "bias");
    op.reads(c.bias, c.n * sizeof(float), "bias");
  }
  const S8GemmVariant& v = s8_gemm_table.select();
  const QuantizeVariant& qv = quantize_table.select();
  return op.submit(
      [&v, &qv, c, x, row_scales, row_zeros]() mutable {
        const size_t mk = c.m * c.k;
        AlignedPtr<uint8_t> q = aligned_alloc_array<uint8_t>(mk ? mk : 1);
        std::unique_ptr<uint8_t[]> bad(new uint8_t[c.m ? c.m : 1]);
        quantize_rows_dynamic(qv, c.m, c.k, x, c.k, c.a_unsigned, q.get(), c.k, row_scales, row_zeros, bad.get());
        for (size_t i = 0; i < c.m; i++)
          if (bad[i]) return;  // reported by the caller from rowScales
        c.a = q.get();
        s8_gemm_run(v, s8_gemm_args(v, c));
      },
      info[3], gemm_ops(c.m, c.n, c.k) + 2.0 * double(c.m) * double(c.k));
}

}  // namespace

void init_s8_async(Napi::Env env, Napi::Object exports) {
  export_fn<S8GemmAsync>(env, exports, "s8GemmAsync");
  export_fn<S8MatmulAsync>(env, exports, "s8MatmulAsync");
  export_fn<S8LinearDynamicAsync>(env, exports, "s8LinearDynamicAsync");
  export_fn<S8LinearDynamicQAsync>(env, exports, "s8LinearDynamicQAsync");
}

}  // namespace binding
}  // namespace simdtensor
