// One op description per op: the argument reader (OpArgs), the weight handle (Handle<W>), and export_op<D>, which
// makes an op's sync function and its `…Async` form from one description. No math here.
//
// A description is a struct with the op's names, its arguments parsed once, the work, and its cost:
//
//   struct MatmulPackedOp {
//     static constexpr OpNames kNames{"matmulPacked", "matmul", "matmulPackedAsync", "matmulAsync"};
//     static constexpr size_t kArgs = 6, kResult = 3;   // the async form's op id is info[kArgs]; resolves info[kResult]
//     struct Call { std::shared_ptr<PackedF32Weights> w; const F32GemmVariant* v; F32GemmArgs g; };
//     static Call parse(OpArgs& a) {
//       auto w = a.handle(2, kPackedF32Handle)->weights();        // pinned + kept alive by the async form
//       const size_t m = a.size(1, "m");
//       const float* x = a.in<float>(0, "a", a.mul(m, w->k()));   // validated; a read range (checked / registered)
//       float* out = a.out<float>(3, "out", a.mul(m, w->n()));    // validated; a write range
//       ... }
//     static double cost(const Call& c);                           // arithmetic ops (< 0: unknown, never inline)
//     static void run(const Call& c);                               // plain C++, any thread; may return a kernel name
//   };
//
// The sync form parses, then runs: every range an argument reader records is checked against the async ops in
// flight (a read against their writes, a write against anything; ERR_SIMDTENSOR_BUSY). The async form parses with
// the same readers, which pin each argument and register its range (binding/async.h), then submits run(). So both
// forms accept and refuse the same arguments, and no argument is pinned by a hand-typed index.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "binding/async.h"
#include "binding/util.h"

namespace simdtensor {

class PackedF32Weights;
class PackedS8Weights;
class PackedHalfWeights;
class PackedF32ConvWeights;
class F32SparseWeights;
class S8SparseWeights;

namespace binding {

// ---- handles --------------------------------------------------------------------------------------------------

template <class W>
class Handle;

// What a kind of weight handle is: its JS class, the type tag that identifies its objects (an unrelated object,
// or Object.create(Class.prototype), is never unwrapped as one), the constructor's parser, and its accessors.
template <class W>
struct HandleKind {
  struct Field {
    const char* name;
    double (*get)(const W&);
    bool boolean;  // the accessor answers a boolean (get() != 0)
  };
  const char* cls;         // "PackedS8"
  const char* fn;          // the constructor's name in errors ("packWeights")
  const char* what;        // the TypeError for anything else: "weights must be a PackedS8 handle from packWeights()"
  napi_type_tag tag;
  std::shared_ptr<W> (*make)(const Napi::CallbackInfo& info, const char* fn);
  Field fields[8];         // ends at the first null name
};

// The JS object holding a shared W (the async form keeps the W alive past the object). Reports the W's bytes to
// the GC as external memory, and any growth (a lazily made dense copy) through update_bytes().
template <class W>
class Handle : public Napi::ObjectWrap<Handle<W>> {
  using Base = Napi::ObjectWrap<Handle<W>>;

 public:
  static Napi::Function Define(Napi::Env env, const HandleKind<W>& kind) {
    std::vector<typename Base::PropertyDescriptor> props;
    for (const auto& f : kind.fields) {
      if (!f.name) break;
      props.push_back(Base::template InstanceAccessor<&Handle::Get>(f.name, napi_default, const_cast<void*>(static_cast<const void*>(&f))));
    }
    return Base::DefineClass(env, kind.cls, props, const_cast<void*>(static_cast<const void*>(&kind)));
  }
  explicit Handle(const Napi::CallbackInfo& info) try : Base(info) {
    const auto* kind = static_cast<const HandleKind<W>*>(info.Data());
    w_ = kind->make(info, kind->fn);
    napi_type_tag_object(info.Env(), info.This(), &kind->tag);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(info.Env(), bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), static_cast<const HandleKind<W>*>(info.Data())->fn);
  }
  ~Handle() override { adjust_external_memory(this->Env(), -bytes_); }

  const std::shared_ptr<W>& weights() const { return w_; }
  void update_bytes(napi_env env) {
    const int64_t b = int64_t(w_->bytes());
    if (b != bytes_) {
      adjust_external_memory(env, b - bytes_);
      bytes_ = b;
    }
  }

  // The handle at v, or a TypeError "fn: <kind.what>".
  static Handle* unwrap(napi_env env, napi_value v, const char* fn, const HandleKind<W>& kind) {
    napi_valuetype vt;
    napi_typeof(env, v, &vt);
    bool tagged = false;
    if (vt == napi_object) napi_check_object_type_tag(env, v, &kind.tag, &tagged);
    if (!tagged) throw Napi::TypeError::New(env, std::string(fn) + ": " + kind.what);
    return Base::Unwrap(Napi::Object(env, v));
  }

 private:
  Napi::Value Get(const Napi::CallbackInfo& info) {
    const auto* f = static_cast<const typename HandleKind<W>::Field*>(info.Data());
    const double v = f->get(*w_);
    return f->boolean ? Napi::Value(Napi::Boolean::New(info.Env(), v != 0)) : Napi::Value(Napi::Number::New(info.Env(), v));
  }
  std::shared_ptr<W> w_;
  int64_t bytes_ = 0;
};

// The handle kinds, defined by their families (several families read another's handles: conv reads PackedS8).
extern const HandleKind<PackedF32Weights> kPackedF32Handle;        // binding/f32.cc
extern const HandleKind<PackedS8Weights> kPackedS8Handle;          // binding/s8.cc
extern const HandleKind<PackedHalfWeights> kPackedHalfHandle;      // binding/half.cc
extern const HandleKind<PackedF32ConvWeights> kPackedConvHandle;   // binding/conv.cc
extern const HandleKind<F32SparseWeights> kSparseF32Handle;        // binding/sparse.cc
extern const HandleKind<S8SparseWeights> kSparseS8Handle;          // binding/sparse.cc

// ---- the argument reader ---------------------------------------------------------------------------------------

// An int8 GEMM output: Int32Array (exact), Float32Array (dequantized), Int8Array / Uint8Array (requantized).
struct S8OutArg {
  int kind;  // S8GemmOut: 0 int32, 1 float32, 2 int8, 3 uint8
  void* data;
  size_t bytes;  // m·n elements of the kind's size
};
constexpr unsigned kS8AllOuts = 0xF;

class OpArgs {
 public:
  // op: the async form's op (arguments are pinned and their ranges registered), or null for the sync form (ranges
  // are checked against the async ops in flight, each as it is read).
  OpArgs(const Napi::CallbackInfo& info, const char* fn, AsyncOp* op) : info_(info), env_(info.Env()), fn_(fn), busy_fn_(fn), op_(op) {}

  napi_env env() const { return env_; }
  const char* fn() const { return fn_; }
  const Napi::CallbackInfo& info() const { return info_; }
  bool is_async() const { return op_ != nullptr; }
  // The name busy conflicts of the sync form are reported under (default fn), e.g. "relu" for activation(1, …).
  void busy_name(const char* name) {
    if (!op_) busy_fn_ = name;
  }

  [[noreturn]] void range_error(const std::string& msg) const { throw Napi::RangeError::New(env_, std::string(fn_) + ": " + msg); }
  [[noreturn]] void type_error(const std::string& msg) const { throw Napi::TypeError::New(env_, std::string(fn_) + ": " + msg); }

  // Scalars.
  size_t size(size_t i, const char* arg, size_t max = size_t(1) << 40) const { return size_arg(info_, i, fn_, arg, max); }
  int i32(size_t i) const { return int_arg(info_, i); }
  double num(size_t i) const { return num_arg(info_, i); }
  bool flag(size_t i) const { return bool_arg(info_, i); }
  bool is_null(size_t i) const {
    napi_valuetype t;
    napi_typeof(env_, info_[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  size_t mul(size_t a, size_t b) const { return mul_sizes(env_, fn_, a, b); }
  // An integer code in [0, count) (0 none, 1 relu, 2 gelu for the GEMMs; conv's codes go further): the one
  // activation check of every op.
  int act(size_t i, int count = 3) const {
    const int v = i32(i);
    if (v < 0 || v >= count)
      range_error(count == 3 ? "activation code must be 0, 1 or 2, got " + std::to_string(v)
                             : "activation code must be in [0, " + std::to_string(count - 1) + "], got " + std::to_string(v));
    return v;
  }

  // TypedArrays the op reads / writes: validated (type, length >= n, attached), then recorded.
  template <class T>
  const T* in(size_t i, const char* arg, size_t n, bool nullable = false) {
    if (op_) return op_->in<T>(i, arg, n, nullable);
    const T* p = typed_data<T>(info_, i, fn_, arg, n, nullable);
    check_sync_read(env_, busy_fn_, arg, p, n * sizeof(T));
    return p;
  }
  template <class T>
  T* out(size_t i, const char* arg, size_t n) {
    if (op_) return op_->out<T>(i, arg, n);
    T* p = typed_data<T>(info_, i, fn_, arg, n);
    check_sync_write(env_, busy_fn_, p, n * sizeof(T));
    return p;
  }
  // A TypedArray read here, on the JS thread, while parsing (a parameter block): validated, not recorded.
  template <class T>
  const T* now(size_t i, const char* arg, size_t n, bool nullable = false, size_t* len = nullptr) const {
    return typed_data<T>(info_, i, fn_, arg, n, nullable, len);
  }
  // Records `bytes` at p (inside the TypedArray info[i]) as read / written.
  void reads(size_t i, const void* p, size_t bytes, const char* arg) {
    if (!p) return;
    if (!op_) return check_sync_read(env_, busy_fn_, arg, p, bytes);
    op_->pin(info_[i], arg);
    op_->reads(p, bytes, arg);
  }
  void writes(size_t i, void* p, size_t bytes, const char* arg) {
    if (!op_) return check_sync_write(env_, busy_fn_, p, bytes);
    op_->pin(info_[i], arg);
    op_->writes(p, bytes, arg);
  }

  // The weight handle at info[i]; the async form pins it and keeps its weights alive until the op settles.
  template <class W>
  Handle<W>* handle(size_t i, const HandleKind<W>& kind) {
    Handle<W>* h = Handle<W>::unwrap(env_, info_[i], fn_, kind);
    if (op_) {
      op_->pin(info_[i]);
      op_->keep(h->weights());
    }
    return h;
  }

  // Int8 family argument kinds (also read by the int8 conv).
  // An Int8Array or a Uint8Array of at least n elements (the bytes read); *is_unsigned says which.
  const uint8_t* s8_in(size_t i, const char* arg, size_t n, bool* is_unsigned);
  uint8_t* s8_out_bytes(size_t i, const char* arg, size_t n, bool* is_unsigned);
  // The int8 GEMM output; `allow` is a bit mask of 1 << kind, other kinds are a TypeError naming the allowed ones.
  S8OutArg s8_out(size_t i, size_t mn, unsigned allow = kS8AllOuts);
  // A per-tensor (1 value) or per-index (n values) parameter array, or null: *stride is 0 or 1, *len 0, 1 or n.
  template <class T>
  const T* param(size_t i, const char* arg, size_t n, size_t* stride, size_t* len, bool nullable = true);
  // A requantized output's scale (info[scale_i]) and zero point (info[zero_i]) into *scale / *zero, with
  // RangeErrors for values an int8 / uint8 output cannot use (none for int32 / float32 outputs).
  void requant(size_t scale_i, size_t zero_i, int out_kind, float* scale, int32_t* zero) const;

 private:
  const uint8_t* s8_bytes(size_t i, const char* arg, size_t n, bool* is_unsigned) const;

  const Napi::CallbackInfo& info_;
  napi_env env_;
  const char* fn_;
  const char* busy_fn_;
  AsyncOp* op_;
};

template <class T>
const T* OpArgs::param(size_t i, const char* arg, size_t n, size_t* stride, size_t* len, bool nullable) {
  *stride = 0;
  *len = 0;
  size_t l = 0;
  const T* p = typed_data<T>(info_, i, fn_, arg, 0, nullable, &l);
  if (is_null(i)) {
    if (!nullable) type_error(std::string(arg) + " is required");
    return nullptr;
  }
  if (l != 1 && l != n)
    range_error(std::string(arg) + " has " + std::to_string(l) + " elements, needs 1 or " + std::to_string(n));
  *stride = l == 1 ? 0 : 1;
  *len = l;
  // An empty array (n = 0 rows or columns) has no data pointer; it is still given: point at nothing, never read.
  static const T kNothing{};
  if (!p) return &kNothing;
  reads(i, p, l * sizeof(T), arg);
  return p;
}

// ---- sync and async forms from one description -----------------------------------------------------------------

// The names of an op: its two exports and the names their errors carry (JS's op names, e.g. "matmul").
struct OpNames {
  const char* sync_export;   // null: the op has only an async form
  const char* sync_fn;
  const char* async_export;  // null: the op has only a sync form
  const char* async_fn;
};

namespace op_detail {
template <class D, class = void>
struct HasDone : std::false_type {};
template <class D>
struct HasDone<D, std::void_t<decltype(&D::done)>> : std::true_type {};

inline Napi::Value result(napi_env env, const char* kernel) { return Napi::String::New(env, kernel); }
inline Napi::Value result(napi_env env, bool b) { return Napi::Boolean::New(env, b); }
inline Napi::Value result(napi_env env, double d) { return Napi::Number::New(env, d); }
}  // namespace op_detail

// Appends `step` to the sequence being recorded (binding/steps.cc, recordSteps).
void record_step(AddonData& d, std::function<void()> step);

// Sync: parse (checking every range against the ops in flight), run here (or, while recordSteps is on, record it), answer what run() returns (a kernel
// name, a bool, a number) or undefined;
// D::done(env, call) runs after, when the description has one (e.g. to account for memory the run made).
template <class D>
Napi::Value op_sync(const Napi::CallbackInfo& info) {
  OpArgs a(info, D::kNames.sync_fn, nullptr);
  const typename D::Call c = D::parse(a);
  if (AddonData* d = recording_data(info.Env())) {
    record_step(*d, [c] { (void)D::run(c); });  // binding/steps.cc: run later, by runSteps
    return info.Env().Undefined();
  }
  Napi::Value r;
  if constexpr (std::is_void_v<decltype(D::run(c))>) {
    D::run(c);
  } else {
    r = op_detail::result(info.Env(), D::run(c));
  }
  if constexpr (op_detail::HasDone<D>::value) D::done(info.Env(), c);
  return r;
}

// Async (the same arguments, then the op id at info[D::kArgs]): parse (pinning and registering), then submit run();
// the Promise resolves with info[D::kResult] (the output).
template <class D>
Napi::Value op_async(const Napi::CallbackInfo& info) {
  AsyncOp op(info, D::kNames.async_fn, D::kArgs);
  OpArgs a(info, D::kNames.async_fn, &op);
  const typename D::Call c = D::parse(a);
  return op.submit([c] { D::run(c); }, info[D::kResult], D::cost(c));
}

// Exports the forms D names.
template <class D>
void export_op(Napi::Env env, Napi::Object exports) {
  if constexpr (D::kNames.sync_export != nullptr) export_fn<op_sync<D>, true>(env, exports, D::kNames.sync_export);
  if constexpr (D::kNames.async_export != nullptr) export_fn<op_async<D>>(env, exports, D::kNames.async_export);
}

// Exports the forms of each description, in the order given.
template <class... D>
void export_ops(Napi::Env env, Napi::Object exports) {
  (export_op<D>(env, exports), ...);
}

}  // namespace binding
}  // namespace simdtensor
