// N-API glue for the half-precision family: conversions, packed f16/bf16 weights, matmul on half operands (each
// matmul's sync and async form from one description) and the half peak probes. No math here: everything calls the
// plain C++ entry points (variant choice, fp16 range guard, per-call packing of one-off weights included).
#include <memory>
#include <string>

#include "binding/op.h"
#include "cpu/dispatch.h"
#include "kernels/half-convert/half-convert.h"
#include "kernels/half-probe/half-probe.h"
#include "runtime/half/gemm_driver.h"
#include "runtime/half/packed_weights.h"

namespace simdtensor {
namespace binding {

namespace {

// Element type codes shared with src/half/cast.ts: 0 float32, 1 float16, 2 bfloat16.
ElemType elem_type_arg(OpArgs& a, size_t i, const char* arg, bool allow_f32) {
  const int t = a.i32(i);
  if (t < (allow_f32 ? 0 : 1) || t > 2)
    a.range_error(std::string(arg) + " must be " + (allow_f32 ? "0 (float32), " : "") + "1 (float16) or 2 (bfloat16), got " +
                  std::to_string(t));
  return ElemType(t);
}

// A Float32Array (type f32) or Uint16Array (half types) of at least n elements.
const void* elem_in(OpArgs& a, size_t i, const char* arg, ElemType t, size_t n) {
  if (t == ElemType::kF32) return a.in<float>(i, arg, n);
  return a.in<uint16_t>(i, arg, n);
}
void* elem_out(OpArgs& a, size_t i, const char* arg, ElemType t, size_t n) {
  if (t == ElemType::kF32) return a.out<float>(i, arg, n);
  return a.out<uint16_t>(i, arg, n);
}

}  // namespace

// new PackedHalf(b: Uint16Array, k, n, transB, type: 1|2, aType: 0|1|2): packed first in the layout of the kernel
// that runs with activations of aType (another layout is made on first use if needed).
const HandleKind<PackedHalfWeights> kPackedHalfHandle{
    "PackedHalf", "packWeights", "weights must be a PackedHalf handle from packWeights()",
    {0x5f1d3c2a9b8e4d71ull, 0xa6c4e2f0b1d3958cull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      OpArgs a(info, fn, nullptr);
      const size_t k = pack_dim_arg(info, 1, fn, "k"), n = pack_dim_arg(info, 2, fn, "n");
      const bool trans_b = a.flag(3);
      const ElemType t = elem_type_arg(a, 4, "type", false);
      const ElemType at = elem_type_arg(a, 5, "activation type", true);
      const uint16_t* b = a.in<uint16_t>(0, "weights", a.mul(k, n));
      return std::make_shared<PackedHalfWeights>(t, b, trans_b ? k : n, trans_b, k, n, half_matmul_variant(t, at).b);
    },
    {{"k", [](const PackedHalfWeights& w) { return double(w.k()); }, false},
     {"n", [](const PackedHalfWeights& w) { return double(w.n()); }, false},
     {"bytes", [](const PackedHalfWeights& w) { return double(w.bytes()); }, false},
     {"type", [](const PackedHalfWeights& w) { return double(int(w.type())); }, false},
     {"maxAbs", [](const PackedHalfWeights& w) { return double(w.max_abs()); }, false}}};

namespace {

// halfMatmulPacked(a, aType, m, packed, out, outType, bias|null, act[, id]) -> kernel name
struct HalfMatmulPackedOp {
  static constexpr OpNames kNames{"halfMatmulPacked", "matmul", "halfMatmulPackedAsync", "matmulAsync"};
  static constexpr size_t kArgs = 8, kResult = 4;
  struct Call {
    std::shared_ptr<PackedHalfWeights> w;
    HalfMatmulArgs x;  // x.w == w.get()
  };
  static Call parse(OpArgs& a) {
    Call c{a.handle(3, kPackedHalfHandle)->weights(), HalfMatmulArgs{}};
    const ElemType at = elem_type_arg(a, 1, "a type", true);
    const ElemType ot = elem_type_arg(a, 5, "out type", true);
    const size_t m = a.size(2, "m"), k = c.w->k(), n = c.w->n();
    const void* x = elem_in(a, 0, "a", at, a.mul(m, k));
    void* out = elem_out(a, 4, "out", ot, a.mul(m, n));
    const float* bias = a.in<float>(6, "bias", n, true);
    c.x = HalfMatmulArgs{m, x, at, k, c.w.get(), {out, ot, n, bias, a.act(7)}};
    return c;
  }
  static double cost(const Call& c) { return 2.0 * double(c.x.m) * double(c.w->n()) * double(c.x.lda); }
  static const char* run(const Call& c) { return half_matmul(c.x); }
};

// halfMatmul(a, aType, m, k, b, bType, n, transB, out, outType, bias|null, act[, id]) -> kernel name
// One-off weights: packed per call (on the worker for the async form).
struct HalfMatmulOp {
  static constexpr OpNames kNames{"halfMatmul", "matmul", "halfMatmulAsync", "matmulAsync"};
  static constexpr size_t kArgs = 12, kResult = 8;
  using Call = HalfMatmulRawArgs;
  static Call parse(OpArgs& a) {
    const ElemType at = elem_type_arg(a, 1, "a type", true);
    const ElemType bt = elem_type_arg(a, 5, "b type", false);
    const ElemType ot = elem_type_arg(a, 9, "out type", true);
    const size_t m = a.size(2, "m"), k = a.size(3, "k"), n = a.size(6, "n");
    const bool trans_b = a.flag(7);
    const void* x = elem_in(a, 0, "a", at, a.mul(m, k));
    const uint16_t* b = a.in<uint16_t>(4, "b", a.mul(k, n));
    void* out = elem_out(a, 8, "out", ot, a.mul(m, n));
    const float* bias = a.in<float>(10, "bias", n, true);
    return HalfMatmulRawArgs{m, n, k, x, at, k, b, bt, trans_b ? k : n, trans_b, {out, ot, n, bias, a.act(11)}};
  }
  static double cost(const Call& c) { return 2.0 * double(c.m) * double(c.n) * double(c.k) + double(c.k) * double(c.n); }
  static const char* run(const Call& c) { return half_matmul_raw(c); }
};

// halfConvert(kind, in, out, n): kind 0 f32→f16, 1 f16→f32, 2 f32→bf16, 3 bf16→f32.
struct HalfConvertOp {
  static constexpr OpNames kNames{"halfConvert", "cast", nullptr, nullptr};
  struct Call {
    int kind;
    size_t n;
    const void* in;
    void* out;
  };
  static Call parse(OpArgs& a) {
    Call c{};
    c.kind = a.i32(0);
    if (c.kind < 0 || c.kind > 3) a.range_error("conversion kind must be 0..3, got " + std::to_string(c.kind));
    c.n = a.size(3, "n");
    const bool from_f32 = c.kind == 0 || c.kind == 2;
    c.in = elem_in(a, 1, "input", from_f32 ? ElemType::kF32 : ElemType::kF16, c.n);
    c.out = elem_out(a, 2, "out", from_f32 ? ElemType::kF16 : ElemType::kF32, c.n);
    return c;
  }
  static void run(const Call& c) { half_cvt_select(HalfCvtKind(c.kind)).fn(c.n, c.in, c.out); }
};

// probeHalfPeak(kind, ms) -> GFLOP/s, or null when no allowed ISA has that unit. kind: 0 fp16 FMA, 1 bf16 dot
// (vdpbf16ps), 2 AMX-BF16 tiles.
Napi::Value ProbeHalfPeak(const Napi::CallbackInfo& info) {
  const int kind = int_arg(info, 0);
  if (kind < 0 || kind > 2) throw Napi::RangeError::New(info.Env(), "probeHalfPeak: kind must be 0, 1 or 2, got " + std::to_string(kind));
  const double ms = probe_ms_arg(info, 1, "probeHalfPeak");
  const double r = probe_half_peak(HalfProbeKind(kind), ms);
  if (r <= 0) return info.Env().Null();
  return Napi::Number::New(info.Env(), r);
}

}  // namespace

void init_half(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedHalf", Handle<PackedHalfWeights>::Define(env, kPackedHalfHandle));
  export_ops<HalfConvertOp, HalfMatmulPackedOp, HalfMatmulOp>(env, exports);
  export_fn<ProbeHalfPeak>(env, exports, "probeHalfPeak");
}

}  // namespace binding
}  // namespace simdtensor
