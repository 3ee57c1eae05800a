// Async forms of the f32 GEMM entry points (matmulPackedAsync, matmulAsync) over binding/async.h. No math here.
#include "binding/async.h"
#include "cpu/dispatch.h"
#include "runtime/core/aligned.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/f32/pack.h"
#include "runtime/f32/packed_weights.h"

namespace simdtensor {
namespace binding {

std::shared_ptr<PackedF32Weights> packed_f32_weights(const Napi::CallbackInfo& info, size_t i, const char* fn);

namespace {

int act_code(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int act = int_arg(info, i);
  if (act < kActNone || act > kActGelu) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": bad activation code");
  return act;
}

// matmulPackedAsync(a, m, packed, out, bias|null, act, id) -> Promise<out>
Napi::Value MatmulPackedAsync(const Napi::CallbackInfo& info) {
  const char* fn = "matmulAsync";
  napi_env env = info.Env();
  AsyncOp op(info, fn, 6);
  std::shared_ptr<PackedF32Weights> w = packed_f32_weights(info, 2, fn);
  const size_t m = size_arg(info, 1, fn, "m"), k = w->k(), n = w->n();
  const float* a = op.in<float>(0, "a", mul_sizes(env, fn, m, k));
  float* out = op.out<float>(3, "out", mul_sizes(env, fn, m, n));
  const float* bias = op.in<float>(4, "bias", n, true);
  const int act = act_code(info, 5, fn);
  op.pin(info[2]);
  op.keep(w);
  const F32GemmVariant& v = f32_gemm_table.select();
  const float* panels = w->panels(v.nr);  // any re-layout for this nr happens here, once
  const F32GemmArgs g{m, n, k, a, k, panels, out, n, bias, act};
  return op.submit([&v, g] { f32_gemm_run(v, g); }, info[3], 2.0 * double(m) * double(n) * double(k));
}

// matmulAsync(a, m, k, b, n, transB, out, bias|null, act, id) -> Promise<out>. B is packed on the worker.
Napi::Value MatmulAsync(const Napi::CallbackInfo& info) {
  const char* fn = "matmulAsync";
  napi_env env = info.Env();
  AsyncOp op(info, fn, 9);
  const size_t m = size_arg(info, 1, fn, "m"), k = size_arg(info, 2, fn, "k"), n = size_arg(info, 4, fn, "n");
  const bool trans_b = bool_arg(info, 5);
  const float* a = op.in<float>(0, "a", mul_sizes(env, fn, m, k));
  const float* b = op.in<float>(3, "b", mul_sizes(env, fn, k, n));
  float* out = op.out<float>(6, "out", mul_sizes(env, fn, m, n));
  const float* bias = op.in<float>(7, "bias", n, true);
  const int act = act_code(info, 8, fn);
  const F32GemmVariant& v = f32_gemm_table.select();
  return op.submit(
      [&v, m, n, k, a, b, trans_b, out, bias, act] {
        if (m == 0 || n == 0) return;  // empty output: skip packing a B whose size no buffer bounds
        AlignedPtr<float> bp = aligned_alloc_array<float>(packed_b_f32_floats(k, n, v.nr));
        pack_b_f32(b, trans_b ? k : n, trans_b, k, n, v.nr, bp.get());
        f32_gemm_run(v, F32GemmArgs{m, n, k, a, k, bp.get(), out, n, bias, act});
      },
      info[6], 2.0 * double(m) * double(n) * double(k) + double(k) * double(n));
}

}  // namespace

void init_f32_async(Napi::Env env, Napi::Object exports) {
  export_fn<MatmulPackedAsync>(env, exports, "matmulPackedAsync");
  export_fn<MatmulAsync>(env, exports, "matmulAsync");
}

}  // namespace binding
}  // namespace simdtensor
