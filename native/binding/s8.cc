// N-API glue for the int8 family: packed int8 weights, int8 GEMM with its epilogues and dynamic-quantized linear
// (each op's sync and async form from one description), quantize / dequantize / calibration helpers and the int8
// peak probes. No math here.
#include <memory>
#include <string>

#include "binding/op.h"
#include "cpu/dispatch.h"
#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "kernels/s8-probe/s8-probe.h"
#include "runtime/int8/gemm_driver.h"
#include "runtime/int8/gemv_driver.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/packed_weights.h"
#include "runtime/int8/quantize.h"
#include "runtime/int8/dynamic_linear.h"
#include "runtime/int8/quant_params.h"

namespace simdtensor {
namespace binding {

// ---- the int8 argument kinds of OpArgs ----------------------------------------------------------------------------

const uint8_t* OpArgs::s8_bytes(size_t i, const char* arg, size_t n, bool* is_unsigned) const {
  bool is_ta = false;
  napi_is_typedarray(env_, info_[i], &is_ta);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab = nullptr;
  if (is_ta) napi_get_typedarray_info(env_, info_[i], &type, &length, &data, &ab, nullptr);
  if (!is_ta || (type != napi_int8_array && type != napi_uint8_array))
    type_error(std::string(arg) + " must be an Int8Array or a Uint8Array");
  if (length < n) throw_too_short(env_, fn_, arg, length, n, ab);
  if (length > 0 && data == nullptr) type_error(std::string(arg) + " is detached");
  *is_unsigned = type == napi_uint8_array;
  return static_cast<const uint8_t*>(data);
}

const uint8_t* OpArgs::s8_in(size_t i, const char* arg, size_t n, bool* is_unsigned) {
  const uint8_t* p = s8_bytes(i, arg, n, is_unsigned);
  reads(i, p, n, arg);
  return p;
}

uint8_t* OpArgs::s8_out_bytes(size_t i, const char* arg, size_t n, bool* is_unsigned) {
  uint8_t* p = const_cast<uint8_t*>(s8_bytes(i, arg, n, is_unsigned));
  writes(i, p, n, arg);
  return p;
}

S8OutArg OpArgs::s8_out(size_t i, size_t mn, unsigned allow) {
  bool is_ta = false;
  napi_is_typedarray(env_, info_[i], &is_ta);
  napi_typedarray_type ot = napi_int32_array;
  if (is_ta) napi_get_typedarray_info(env_, info_[i], &ot, nullptr, nullptr, nullptr, nullptr);
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
    type_error("out must be " + list);
  }
  switch (o.kind) {
    case kS8OutI32: o.data = typed_data<int32_t>(info_, i, fn_, "out", mn); o.bytes = mn * 4; break;
    case kS8OutF32: o.data = typed_data<float>(info_, i, fn_, "out", mn); o.bytes = mn * 4; break;
    case kS8OutS8: o.data = typed_data<int8_t>(info_, i, fn_, "out", mn); o.bytes = mn; break;
    default: o.data = typed_data<uint8_t>(info_, i, fn_, "out", mn); o.bytes = mn; break;
  }
  writes(i, o.data, o.bytes, "out");
  return o;
}

void OpArgs::requant(size_t scale_i, size_t zero_i, int out_kind, float* scale, int32_t* zero) const {
  const double out_scale = num(scale_i);
  const int32_t out_zero = i32(zero_i);
  *scale = float(out_scale);
  *zero = out_zero;
  if (out_kind != kS8OutS8 && out_kind != kS8OutU8) return;
  if (!(out_scale > 0) || !(out_scale < 3.4e38))
    range_error("output scale must be a positive finite number, got " + std::to_string(out_scale));
  const int lo = out_kind == kS8OutS8 ? -128 : 0, hi = out_kind == kS8OutS8 ? 127 : 255;
  if (out_zero < lo || out_zero > hi)
    range_error("output zero point " + std::to_string(out_zero) + " is outside [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
}

// new PackedS8(b: Int8Array|Uint8Array, k, n, transB, zeroPoints: Int32Array|null, scales: Float32Array|null)
const HandleKind<PackedS8Weights> kPackedS8Handle{
    "PackedS8", "packWeights", "weights must be a PackedS8 handle from packWeights()",
    {0x73386765'6d6d7061ull, 0x636b6564'77656967ull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      OpArgs a(info, fn, nullptr);
      const size_t k = pack_dim_arg(info, 1, fn, "k"), n = pack_dim_arg(info, 2, fn, "n");
      const bool trans_b = a.flag(3);
      bool uns = false;
      const uint8_t* b = a.s8_in(0, "weights", a.mul(k, n), &uns);
      size_t zs, zl, ss, sl;
      const int32_t* zp = a.param<int32_t>(4, "zeroPoint", n, &zs, &zl);
      const float* sc = a.param<float>(5, "scale", n, &ss, &sl);
      const S8GemmVariant& v = s8_gemm_table.select();
      return std::make_shared<PackedS8Weights>(b, uns, trans_b ? k : n, trans_b, k, n, zp, zp ? (zs ? n : 1) : 0, sc,
                                               sc ? (ss ? n : 1) : 0, v.nr, v.kstep, v.kgroup);
    },
    {{"k", [](const PackedS8Weights& w) { return double(w.k()); }, false},
     {"n", [](const PackedS8Weights& w) { return double(w.n()); }, false},
     {"bytes", [](const PackedS8Weights& w) { return double(w.bytes()); }, false},
     {"unsigned", [](const PackedS8Weights& w) { return w.b_unsigned() ? 1.0 : 0.0; }, true}}};

namespace {

double gemm_ops(size_t m, size_t n, size_t k) { return 2.0 * double(m) * double(n) * double(k); }

// The int8 GEMM call every int8 matmul / linear ends in: the driver's arguments but the weights, bound in run().
struct S8GemmCall {
  std::shared_ptr<PackedS8Weights> w;
  const S8GemmVariant* v;
  S8GemmArgs g;  // all but the B fields
};

// The weights at info[i] and the sizes they fix: m from info[m_arg].
S8GemmCall s8_gemm_call(OpArgs& a, size_t w_arg, size_t m_arg) {
  S8GemmCall c{a.handle(w_arg, kPackedS8Handle)->weights(), &s8_gemm_table.select(), S8GemmArgs{}};
  c.g.m = a.size(m_arg, "m");
  c.g.k = c.w->k();
  c.g.n = c.w->n();
  c.g.lda = c.g.k;
  c.g.ldc = c.g.n;
  return c;
}

const char* s8_gemm_exec(const S8GemmCall& c) {
  S8GemmArgs g = c.g;
  s8_gemm_bind_weights(*c.v, *c.w, &g);  // re-lays the weights for this variant on first use (any thread)
  s8_gemm_run(*c.v, g);
  return s8_kernel_for_m(*c.v, g.m);
}

// s8Gemm(a: Int8Array|Uint8Array, m, packed, aZero: Int32Array|null, aScale: Float32Array|null,
//        out: Int32Array|Float32Array|Int8Array|Uint8Array, bias|null, act, outScale, outZero[, id]) -> kernel name
// The output kind follows out's type: int32 (exact), float32 (dequantized), int8/uint8 (requantized).
struct S8GemmOp {
  static constexpr OpNames kNames{"s8Gemm", "matmul", "s8GemmAsync", "matmulAsync"};
  static constexpr size_t kArgs = 10, kResult = 5;
  using Call = S8GemmCall;
  static Call parse(OpArgs& a) {
    Call c = s8_gemm_call(a, 2, 1);
    S8GemmArgs& g = c.g;
    g.a = a.s8_in(0, "a", a.mul(g.m, g.k), &g.a_unsigned);
    size_t len;
    g.a_zero = a.param<int32_t>(3, "a zero point", g.m, &g.a_zero_stride, &len);
    g.a_scale = a.param<float>(4, "a scale", g.m, &g.a_scale_stride, &len);
    const S8OutArg out = a.s8_out(5, a.mul(g.m, g.n));
    g.out = out.kind;
    g.c = out.data;
    if (out.kind != kS8OutI32 && !g.a_scale) a.type_error("a scale is required for float32 and int8 outputs");
    g.bias = a.in<float>(6, "bias", g.n, true);
    g.act = a.act(7);
    a.requant(8, 9, out.kind, &g.out_scale, &g.out_zero);
    return c;
  }
  static double cost(const Call& c) { return gemm_ops(c.g.m, c.g.n, c.g.k); }
  static const char* run(const Call& c) { return s8_gemm_exec(c); }
};

// s8MatmulAsync(a, m, k, b: Int8Array|Uint8Array, n, transB, out: Int32Array, id) -> Promise<out>
// The exact int32 product with one-off weights: B is packed on the worker (scale 1, zero point 0, as the sync
// matmul packs it).
struct S8MatmulOp {
  static constexpr OpNames kNames{nullptr, nullptr, "s8MatmulAsync", "matmulAsync"};
  static constexpr size_t kArgs = 7, kResult = 6;
  struct Call {
    const S8GemmVariant* v;
    size_t m, n, k;
    const uint8_t *a, *b;
    bool a_uns, b_uns, trans_b;
    S8OutArg out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.v = &s8_gemm_table.select();
    c.m = a.size(1, "m");
    c.k = a.size(2, "k");
    c.n = a.size(4, "n");
    c.trans_b = a.flag(5);
    c.a = a.s8_in(0, "a", a.mul(c.m, c.k), &c.a_uns);
    c.b = a.s8_in(3, "b", a.mul(c.k, c.n), &c.b_uns);
    c.out = a.s8_out(6, a.mul(c.m, c.n), 1u << kS8OutI32);
    return c;
  }
  static double cost(const Call& c) { return gemm_ops(c.m, c.n, c.k) + double(c.k) * double(c.n); }
  static void run(const Call& c) {
    if (c.m == 0 || c.n == 0) return;  // empty output: skip packing a B whose size no buffer bounds
    const int32_t zero = 0;
    const float one = 1.0f;
    const S8GemmVariant& v = *c.v;
    S8GemmCall g{std::make_shared<PackedS8Weights>(c.b, c.b_uns, c.trans_b ? c.k : c.n, c.trans_b, c.k, c.n, &zero, 1,
                                                   &one, 1, v.nr, v.kstep, v.kgroup),
                 &v, S8GemmArgs{}};
    g.g.m = c.m;
    g.g.n = c.n;
    g.g.k = c.k;
    g.g.a = c.a;
    g.g.lda = c.k;
    g.g.a_unsigned = c.a_uns;
    g.g.out = c.out.kind;
    g.g.c = c.out.data;
    g.g.ldc = c.n;
    g.g.out_scale = 1.0f;
    s8_gemm_exec(g);
  }
};

// s8LinearDynamic(x: Float32Array, m, packed, out: Float32Array, bias|null, act[, id]) -> kernel name
// x is quantized per row (inside the driver), then the int8 GEMM dequantizes into out.
struct S8LinearDynamicOp {
  static constexpr OpNames kNames{"s8LinearDynamic", "linear", "s8LinearDynamicAsync", "linearAsync"};
  static constexpr size_t kArgs = 6, kResult = 3;
  struct Call {
    std::shared_ptr<PackedS8Weights> w;
    const S8GemmVariant* v;
    const QuantizeVariant* qv;
    S8LinearDynamicArgs x;
  };
  static Call parse(OpArgs& a) {
    Call c{a.handle(2, kPackedS8Handle)->weights(), &s8_gemm_table.select(), &quantize_table.select(), {}};
    const size_t m = a.size(1, "m"), k = c.w->k(), n = c.w->n();
    const float* x = a.in<float>(0, "x", a.mul(m, k));
    float* out = a.out<float>(3, "out", a.mul(m, n));
    const float* bias = a.in<float>(4, "bias", n, true);
    c.x = S8LinearDynamicArgs{m, x, k, c.w.get(), bias, a.act(5), out, n};
    return c;
  }
  static double cost(const Call& c) { return gemm_ops(c.x.m, c.x.ldy, c.x.ldx); }
  static const char* run(const Call& c) {
    s8_linear_dynamic_run(*c.v, *c.qv, c.x);
    return s8_kernel_for_m(*c.v, c.x.m);
  }
};

// s8LinearDynamicQAsync(x: Float32Array, m, packed, out: Int8Array|Uint8Array, bias|null, act, outScale, outZero,
//                       xUnsigned, rowScales: Float32Array(m), rowZeros: Int32Array(m), id) -> Promise<out>
// The requantized-output linear over f32 activations (runtime/int8/dynamic_linear.h): x quantized per row (u8
// asymmetric when xUnsigned, else s8 symmetric: what quantizeDynamic does), the row parameters into rowScales /
// rowZeros, then the int8 GEMM requantizes into out. A row holding NaN or ±Inf gets a NaN scale and out is left
// untouched: the caller checks rowScales and raises quantizeDynamic's error.
struct S8LinearDynamicQOp {
  static constexpr OpNames kNames{nullptr, nullptr, "s8LinearDynamicQAsync", "linearAsync"};
  static constexpr size_t kArgs = 11, kResult = 3;
  struct Call {
    S8GemmCall gemm;
    const QuantizeVariant* qv;
    const float* x;
  };
  static Call parse(OpArgs& a) {
    Call c{s8_gemm_call(a, 2, 1), &quantize_table.select(), nullptr};
    S8GemmArgs& g = c.gemm.g;
    c.x = a.in<float>(0, "x", a.mul(g.m, g.k));
    const S8OutArg out = a.s8_out(3, a.mul(g.m, g.n), (1u << kS8OutS8) | (1u << kS8OutU8));
    g.out = out.kind;
    g.c = out.data;
    g.bias = a.in<float>(4, "bias", g.n, true);
    g.act = a.act(5);
    a.requant(6, 7, out.kind, &g.out_scale, &g.out_zero);
    g.a_unsigned = a.flag(8);
    g.a_scale = a.out<float>(9, "rowScales", g.m);
    g.a_zero = a.out<int32_t>(10, "rowZeros", g.m);
    return c;
  }
  static double cost(const Call& c) { return gemm_ops(c.gemm.g.m, c.gemm.g.n, c.gemm.g.k) + 2.0 * double(c.gemm.g.m) * double(c.gemm.g.k); }
  static void run(const Call& c) { s8_linear_dynamic_q_run(*c.gemm.v, *c.qv, c.x, *c.gemm.w, c.gemm.g); }
};

QuantTensorShape shape_args(OpArgs& a, size_t i) {
  QuantTensorShape s{a.size(i, "outer"), a.size(i + 1, "channels"), a.size(i + 2, "inner")};
  a.mul(a.mul(s.outer, s.channels), s.inner);
  return s;
}

// quantize(x: Float32Array, out: Int8Array|Uint8Array, outer, channels, inner, scales, zeros, symmetric)
struct QuantizeOp {
  static constexpr OpNames kNames{"quantize", "quantize", nullptr, nullptr};
  struct Call {
    QuantTensorShape s;
    const float* x;
    uint8_t* out;
    const float* scales;
    const int32_t* zeros;
    int32_t qmin, qmax;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.s = shape_args(a, 2);
    c.x = a.in<float>(0, "t", c.s.size());
    bool uns = false;
    c.out = a.s8_out_bytes(1, "out", c.s.size(), &uns);
    c.scales = a.in<float>(5, "scale", c.s.channels);
    c.zeros = a.in<int32_t>(6, "zeroPoint", c.s.channels);
    quant_range(uns, a.flag(7), &c.qmin, &c.qmax);
    const std::string err = quant_check_params(c.s.channels, c.scales, c.zeros, c.qmin, c.qmax);
    if (!err.empty()) a.range_error(err);
    return c;
  }
  static void run(const Call& c) { quantize_tensor(quantize_table.select(), c.s, c.x, c.scales, c.zeros, c.qmin, c.qmax, c.out); }
};

// dequantize(q: Int8Array|Uint8Array, out: Float32Array, outer, channels, inner, scales, zeros)
struct DequantizeOp {
  static constexpr OpNames kNames{"dequantize", "dequantize", nullptr, nullptr};
  struct Call {
    QuantTensorShape s;
    const uint8_t* q;
    bool uns;
    float* out;
    const float* scales;
    const int32_t* zeros;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.s = shape_args(a, 2);
    c.q = a.s8_in(0, "q", c.s.size(), &c.uns);
    c.out = a.out<float>(1, "out", c.s.size());
    c.scales = a.in<float>(5, "scale", c.s.channels);
    c.zeros = a.in<int32_t>(6, "zeroPoint", c.s.channels);
    return c;
  }
  static void run(const Call& c) { dequantize_tensor(quantize_table.select(), c.s, c.q, c.uns, c.scales, c.zeros, c.out); }
};

// quantMinMax(x: Float32Array, outer, channels, inner, mins: Float32Array, maxs: Float32Array) -> NaN seen
struct QuantMinMaxOp {
  static constexpr OpNames kNames{"quantMinMax", "quantize", nullptr, nullptr};
  struct Call {
    QuantTensorShape s;
    const float* x;
    float *mins, *maxs;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.s = shape_args(a, 1);
    c.x = a.in<float>(0, "t", c.s.size());
    c.mins = a.out<float>(4, "mins", c.s.channels);
    c.maxs = a.out<float>(5, "maxs", c.s.channels);
    return c;
  }
  static bool run(const Call& c) { return minmax_tensor(quantize_table.select(), c.s, c.x, c.mins, c.maxs); }
};

// quantParams(mins, maxs, count, unsigned, symmetric, scalesOut: Float32Array, zerosOut: Int32Array)
struct QuantParamsOp {
  static constexpr OpNames kNames{"quantParams", "quantize", nullptr, nullptr};
  struct Call {
    size_t n;
    const float *mins, *maxs;
    bool uns, sym;
    float* scales;
    int32_t* zeros;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.n = a.size(2, "count");
    c.mins = a.in<float>(0, "mins", c.n);
    c.maxs = a.in<float>(1, "maxs", c.n);
    c.uns = a.flag(3);
    c.sym = a.flag(4);
    c.scales = a.out<float>(5, "scales", c.n);
    c.zeros = a.out<int32_t>(6, "zeros", c.n);
    return c;
  }
  static void run(const Call& c) { quant_choose_params_n(c.n, c.mins, c.maxs, c.uns, c.sym, c.scales, c.zeros); }
};

// quantHistogram(x: Float32Array, n, lo, hi, counts: Float64Array) (bins = counts.length)
Napi::Value QuantHistogram(const Napi::CallbackInfo& info) {
  OpArgs a(info, "Calibrator", nullptr);
  const size_t n = a.size(1, "n");
  const float* x = a.in<float>(0, "t", n);
  napi_env env = info.Env();
  bool is_ta = false;
  napi_is_typedarray(env, info[4], &is_ta);
  napi_typedarray_type type = napi_int8_array;
  void* data = nullptr;
  size_t bins = 0;
  if (is_ta) napi_get_typedarray_info(env, info[4], &type, &bins, &data, nullptr, nullptr);
  if (!is_ta || type != napi_float64_array) a.type_error("counts must be a Float64Array");
  if (bins == 0 || data == nullptr) a.range_error("counts must not be empty");
  a.writes(4, data, bins * sizeof(double), "counts");
  quant_histogram(n, x, float(a.num(2)), float(a.num(3)), bins, static_cast<double*>(data));
  return info.Env().Undefined();
}

// quantizeRows(x: Float32Array, m, k, out: Int8Array|Uint8Array, scales: Float32Array, zeros: Int32Array)
//   -> number of rows holding NaN/±Inf (their scale is NaN)
struct QuantizeRowsOp {
  static constexpr OpNames kNames{"quantizeRows", "quantizeDynamic", nullptr, nullptr};
  struct Call {
    size_t m, k;
    const float* x;
    bool uns;
    uint8_t* out;
    float* scales;
    int32_t* zeros;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.m = a.size(1, "m");
    c.k = a.size(2, "k");
    c.x = a.in<float>(0, "x", a.mul(c.m, c.k));
    c.out = a.s8_out_bytes(3, "out", c.m * c.k, &c.uns);
    c.scales = a.out<float>(4, "scales", c.m);
    c.zeros = a.out<int32_t>(5, "zeros", c.m);
    return c;
  }
  static double run(const Call& c) {
    return double(quantize_rows_dynamic_count(quantize_table.select(), c.m, c.k, c.x, c.uns, c.out, c.scales, c.zeros));
  }
};

Napi::Value ProbePeak(const Napi::CallbackInfo& info, bool amx, const char* fn) {
  const double ms = probe_ms_arg(info, 0, fn);
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
  exports.Set("PackedS8", Handle<PackedS8Weights>::Define(env, kPackedS8Handle));
  export_ops<S8GemmOp, S8MatmulOp, S8LinearDynamicOp, S8LinearDynamicQOp, QuantizeOp, DequantizeOp, QuantMinMaxOp,
             QuantParamsOp>(env, exports);
  export_fn<QuantHistogram>(env, exports, "quantHistogram");
  export_op<QuantizeRowsOp>(env, exports);
  export_fn<ProbeVnniPeak>(env, exports, "probeVnniPeak");
  export_fn<ProbeAmxInt8Peak>(env, exports, "probeAmxInt8Peak");
}

}  // namespace binding
}  // namespace simdtensor
