// N-API glue for the f32 family: packed weights handle, matmul (sync and async from one description each),
// elementwise ops. No math here.
#include <memory>

#include "binding/op.h"
#include "cpu/dispatch.h"
#include "kernels/f32-probe/f32-probe.h"
#include "runtime/core/aligned.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/f32/pack.h"
#include "runtime/f32/packed_weights.h"

namespace simdtensor {
namespace binding {

// new PackedF32(b: Float32Array, k, n, transB)
const HandleKind<PackedF32Weights> kPackedF32Handle{
    "PackedF32", "packWeights", "weights must be a PackedF32 handle from packWeights()",
    {0x66333270'61636b65ull, 0x64663332'68616e64ull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      const size_t k = pack_dim_arg(info, 1, fn, "k"), n = pack_dim_arg(info, 2, fn, "n");
      const bool trans_b = bool_arg(info, 3);
      const float* b = typed_data<float>(info, 0, fn, "weights", mul_sizes(info.Env(), fn, k, n));
      return std::make_shared<PackedF32Weights>(b, trans_b ? k : n, trans_b, k, n, f32_gemm_table.select().nr);
    },
    {{"k", [](const PackedF32Weights& w) { return double(w.k()); }, false},
     {"n", [](const PackedF32Weights& w) { return double(w.n()); }, false},
     {"bytes", [](const PackedF32Weights& w) { return double(w.bytes()); }, false}}};

namespace {

double gemm_ops(size_t m, size_t n, size_t k) { return 2.0 * double(m) * double(n) * double(k); }

// matmulPacked(a: Float32Array, m, packed, out: Float32Array, bias: Float32Array|null, act[, id])
struct MatmulPackedOp {
  static constexpr OpNames kNames{"matmulPacked", "matmul", "matmulPackedAsync", "matmulAsync"};
  static constexpr size_t kArgs = 6, kResult = 3;
  struct Call {
    std::shared_ptr<PackedF32Weights> w;
    const F32GemmVariant* v;
    F32GemmArgs g;
  };
  static Call parse(OpArgs& a) {
    Call c{a.handle(2, kPackedF32Handle)->weights(), &f32_gemm_table.select(), {}};
    const size_t m = a.size(1, "m"), k = c.w->k(), n = c.w->n();
    const float* x = a.in<float>(0, "a", a.mul(m, k));
    float* out = a.out<float>(3, "out", a.mul(m, n));
    const float* bias = a.in<float>(4, "bias", n, true);
    const int act = a.act(5);
    c.g = F32GemmArgs{m, n, k, x, k, c.w->panels(c.v->nr), out, n, bias, act};  // any re-layout for nr: here, once
    return c;
  }
  static double cost(const Call& c) { return gemm_ops(c.g.m, c.g.n, c.g.k); }
  static void run(const Call& c) { f32_gemm_run(*c.v, c.g); }
};

thread_local ScratchBuffer<float> t_bpack;

// matmul(a, m, k, b, n, transB, out, bias|null, act[, id]): B packed per call (one-off products); the sync form
// packs into this thread's scratch, the async form into memory of its own on the worker.
struct MatmulOp {
  static constexpr OpNames kNames{"matmul", "matmul", "matmulAsync", "matmulAsync"};
  static constexpr size_t kArgs = 9, kResult = 6;
  struct Call {
    const F32GemmVariant* v;
    size_t m, n, k;
    const float *a, *b;
    bool trans_b, scratch;
    float* out;
    const float* bias;
    int act;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.v = &f32_gemm_table.select();
    c.m = a.size(1, "m");
    c.k = a.size(2, "k");
    c.n = a.size(4, "n");
    c.trans_b = a.flag(5);
    c.scratch = !a.is_async();
    c.a = a.in<float>(0, "a", a.mul(c.m, c.k));
    c.b = a.in<float>(3, "b", a.mul(c.k, c.n));
    c.out = a.out<float>(6, "out", a.mul(c.m, c.n));
    c.bias = a.in<float>(7, "bias", c.n, true);
    c.act = a.act(8);
    return c;
  }
  static double cost(const Call& c) { return gemm_ops(c.m, c.n, c.k) + double(c.k) * double(c.n); }
  static void run(const Call& c) {
    if (c.m == 0 || c.n == 0) return;  // empty output: k and n need not be backed by memory, skip packing
    const size_t floats = packed_b_f32_floats(c.k, c.n, c.v->nr);
    AlignedPtr<float> own;
    float* bp = c.scratch ? t_bpack.get(floats) : (own = aligned_alloc_array<float>(floats)).get();
    pack_b_f32(c.b, c.trans_b ? c.k : c.n, c.trans_b, c.k, c.n, c.v->nr, bp);
    f32_gemm_run(*c.v, F32GemmArgs{c.m, c.n, c.k, c.a, c.k, bp, c.out, c.n, c.bias, c.act});
  }
};

int op_code(OpArgs& a, size_t i, int last) {
  const int op = a.i32(i);
  if (op < 0 || op > last) a.range_error("bad op code");
  return op;
}

// The binary op code (add, sub, mul, …) at info[0]; busy conflicts are reported as "add/sub/mul".
int binary_op_code(OpArgs& a) {
  a.busy_name("add/sub/mul");
  return op_code(a, 0, kBinLast);
}

// binary(op, a, b, out, n)
struct BinaryOp {
  static constexpr OpNames kNames{"binary", "binary", nullptr, nullptr};
  struct Call {
    int op;
    size_t n;
    const float *a, *b;
    float* out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.op = binary_op_code(a);
    c.n = a.size(4, "n");
    c.a = a.in<float>(1, "a", c.n);
    c.b = a.in<float>(2, "b", c.n);
    c.out = a.out<float>(3, "out", c.n);
    return c;
  }
  static void run(const Call& c) { f32_eltwise_table.select().binary(c.op, c.n, c.a, c.b, c.out); }
};

// binaryRow(op, a, row, out, rows, cols)
struct BinaryRowOp {
  static constexpr OpNames kNames{"binaryRow", "binaryRow", nullptr, nullptr};
  struct Call {
    int op;
    size_t rows, cols;
    const float *a, *row;
    float* out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.op = binary_op_code(a);
    c.rows = a.size(4, "rows");
    c.cols = a.size(5, "cols");
    const size_t total = a.mul(c.rows, c.cols);
    c.a = a.in<float>(1, "a", total);
    c.row = a.in<float>(2, "row", c.cols);
    c.out = a.out<float>(3, "out", total);
    return c;
  }
  static void run(const Call& c) {
    if (c.rows == 0 || c.cols == 0) return;  // rows is unchecked when cols is 0: never loop over it
    f32_eltwise_table.select().binary_row(c.op, c.rows, c.cols, c.a, c.row, c.out);
  }
};

// activation(act, x, out, n)
struct ActivationOp {
  static constexpr OpNames kNames{"activation", "activation", nullptr, nullptr};
  struct Call {
    int act;
    size_t n;
    const float* x;
    float* out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.act = a.act(0);
    c.n = a.size(3, "n");
    a.busy_name(c.act == kActGelu ? "gelu" : "relu");
    c.x = a.in<float>(1, "x", c.n);
    c.out = a.out<float>(2, "out", c.n);
    return c;
  }
  static void run(const Call& c) { f32_eltwise_table.select().activation(c.act, c.n, c.x, c.out); }
};

// unary(op, x, out, n, p0, p1): the UnaryOp family (clip, leaky relu, sigmoid, tanh, exp, sqrt, rsqrt, erf, elu)
struct UnaryOp {
  static constexpr OpNames kNames{"unary", "unary", nullptr, nullptr};
  struct Call {
    int op;
    size_t n;
    const float* x;
    float* out;
    float p0, p1;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.op = op_code(a, 0, kUnLast);
    c.n = a.size(3, "n");
    c.x = a.in<float>(1, "x", c.n);
    c.out = a.out<float>(2, "out", c.n);
    const Napi::CallbackInfo& info = a.info();
    if (!info[4].IsNumber() || !info[5].IsNumber()) a.type_error("p0 and p1 must be numbers");
    c.p0 = float(a.num(4));
    c.p1 = float(a.num(5));
    return c;
  }
  static void run(const Call& c) { f32_eltwise_table.select().unary(c.op, c.n, c.x, c.p0, c.p1, c.out); }
};

// softmax(log, x, out, rows, cols)
struct SoftmaxOp {
  static constexpr OpNames kNames{"softmax", "softmax", nullptr, nullptr};
  struct Call {
    bool log;
    size_t rows, cols;
    const float* x;
    float* out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.log = a.flag(0);
    c.rows = a.size(3, "rows");
    c.cols = a.size(4, "cols");
    a.busy_name(c.log ? "logSoftmax" : "softmax");
    const size_t total = a.mul(c.rows, c.cols);
    c.x = a.in<float>(1, "x", total);
    c.out = a.out<float>(2, "out", total);
    return c;
  }
  static void run(const Call& c) {
    if (c.cols > 0) f32_eltwise_table.select().softmax(c.log, c.rows, c.cols, c.x, nullptr, c.out);
  }
};

// layerNorm(x, gamma|null, beta|null, eps, out, rows, cols, residual?|null): of x + residual when one is given.
struct LayerNormOp {
  static constexpr OpNames kNames{"layerNorm", "layerNorm", nullptr, nullptr};
  struct Call {
    size_t rows, cols;
    const float *x, *r, *g, *b;
    float eps;
    float* out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.rows = a.size(5, "rows");
    c.cols = a.size(6, "cols");
    const size_t total = a.mul(c.rows, c.cols);
    c.x = a.in<float>(0, "x", total);
    c.r = a.in<float>(7, "residual", total, true);
    c.g = a.in<float>(1, "gamma", c.cols, true);
    c.b = a.in<float>(2, "beta", c.cols, true);
    c.eps = float(a.num(3));
    c.out = a.out<float>(4, "out", total);
    return c;
  }
  static void run(const Call& c) {
    if (c.cols > 0) f32_eltwise_table.select().layernorm(c.rows, c.cols, c.x, c.r, c.g, c.b, c.eps, c.out);
  }
};

// probeF32Peak(ms) -> GFLOP/s of an FMA loop on the best allowed ISA.
Napi::Value ProbeF32Peak(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), probe_f32_peak(probe_ms_arg(info, 0, "probeF32Peak")));
}

// probeReadBandwidth(bytes, ms) -> GB/s streaming reads over a buffer of that size.
Napi::Value ProbeReadBandwidth(const Napi::CallbackInfo& info) {
  // At most 1 GiB: a probe needs a buffer well past the last-level cache, not a share of the machine (the fuzzer
  // asked for 2 GiB and the process held it for seconds).
  const size_t bytes = size_arg(info, 0, "probeReadBandwidth", "bytes", size_t(1) << 30);
  const double ms = probe_ms_arg(info, 1, "probeReadBandwidth");
  return Napi::Number::New(info.Env(), probe_read_bandwidth(bytes, ms));
}

}  // namespace

void init_f32(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedF32", Handle<PackedF32Weights>::Define(env, kPackedF32Handle));
  export_ops<MatmulPackedOp, MatmulOp, BinaryOp, BinaryRowOp, ActivationOp, UnaryOp, SoftmaxOp,
             LayerNormOp>(env, exports);
  export_fn<ProbeF32Peak>(env, exports, "probeF32Peak");
  export_fn<ProbeReadBandwidth>(env, exports, "probeReadBandwidth");
}

}  // namespace binding
}  // namespace simdtensor
