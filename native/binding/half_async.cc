// Async forms of the half-precision GEMM entry points over binding/async.h: the same argument parsing as the
// sync ones (binding/half_args.h), the same runtime entry points (half_matmul / half_matmul_raw: variant choice,
// fp16 range guard, per-call packing of one-off weights), run on the pool. No math here.
#include "binding/async.h"
#include "binding/half_args.h"
#include "runtime/half/gemm_driver.h"
#include "runtime/half/packed_weights.h"

namespace simdtensor {
namespace binding {
namespace {

// halfMatmulPackedAsync(a, aType, m, packed, out, outType, bias|null, act, id) -> Promise<out>
Napi::Value HalfMatmulPackedAsync(const Napi::CallbackInfo& info) {
  const char* fn = "matmulAsync";
  AsyncOp op(info, fn, 8);
  const HalfPackedCall c = half_packed_call(info, fn);
  op.pin(info[0], "a");
  op.reads(c.x.a, c.a_bytes, "a");
  op.pin(info[3]);
  op.keep(c.w);
  op.pin(info[4], "out");
  op.writes(c.x.out, c.out_bytes, "out");
  if (c.x.bias) {
    op.pin(info[6], "bias");
    op.reads(c.x.bias, c.n * sizeof(float), "bias");
  }
  // c holds the shared_ptr, so the weights outlive the work even without op.keep.
  return op.submit([c] { half_matmul(c.x); }, info[4], 2.0 * double(c.x.m) * double(c.n) * double(c.x.lda));
}

// halfMatmulAsync(a, aType, m, k, b, bType, n, transB, out, outType, bias|null, act, id) -> Promise<out>
// One-off weights: packed on the worker, as the sync op packs them per call.
Napi::Value HalfMatmulAsync(const Napi::CallbackInfo& info) {
  const char* fn = "matmulAsync";
  AsyncOp op(info, fn, 12);
  const HalfRawCall c = half_raw_call(info, fn);
  op.pin(info[0], "a");
  op.reads(c.x.a, c.a_bytes, "a");
  op.pin(info[4], "b");
  op.reads(c.x.b, c.b_bytes, "b");
  op.pin(info[8], "out");
  op.writes(c.x.out, c.out_bytes, "out");
  if (c.x.bias) {
    op.pin(info[10], "bias");
    op.reads(c.x.bias, c.x.n * sizeof(float), "bias");
  }
  const double mnk = double(c.x.m) * double(c.x.n) * double(c.x.k);
  return op.submit([c] { half_matmul_raw(c.x); }, info[8], 2.0 * mnk + double(c.x.k) * double(c.x.n));
}

}  // namespace

void init_half_async(Napi::Env env, Napi::Object exports) {
  export_fn<HalfMatmulPackedAsync>(env, exports, "halfMatmulPackedAsync");
  export_fn<HalfMatmulAsync>(env, exports, "halfMatmulAsync");
}

}  // namespace binding
}  // namespace simdtensor
