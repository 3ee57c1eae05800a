// N-API glue for sparse weights: the validated native handle (SparseF32), sparse linear (sync and async), dense <->
// sparse conversion and magnitude pruning. No math here: everything calls the plain C++ entry points.
#include <memory>
#include <string>
#include <vector>

#include "binding/async.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "runtime/sparse/prune.h"
#include "runtime/sparse/s8.h"
#include "runtime/sparse/weights.h"
#include "runtime/sparse/spmm_driver.h"

namespace simdtensor {
namespace binding {
namespace {

// Tags SparseF32 objects so an unrelated object can never be unwrapped as one.
const napi_type_tag kSparseF32Tag = {0x3b7e51d09a2c46f8ull, 0x91d4a6e2c07f5b13ull};

SparseFormat format_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int f = int_arg(info, i);
  if (f < 0 || f > 2)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": format code must be 0 (csr), 1 (bsr) or 2 (n:m), got " +
                                                std::to_string(f));
  return SparseFormat(f);
}

int act_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int act = int_arg(info, i);
  if (act < 0 || act > 2)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": activation code must be 0, 1 or 2, got " + std::to_string(act));
  return act;
}

SparseMode mode_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int m = int_arg(info, i);
  if (m < 0 || m > 2)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": mode must be 0 (auto), 1 (sparse) or 2 (dense), got " +
                                                std::to_string(m));
  return SparseMode(m);
}

bool is_null(const Napi::CallbackInfo& info, size_t i) {
  const napi_valuetype t = info[i].Type();
  return t == napi_null || t == napi_undefined;
}

// An index array: Uint16Array or Int32Array.
const void* index_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg, bool* idx16, size_t* len) {
  napi_env env = info.Env();
  bool is_ta = false;
  napi_is_typedarray(env, info[i], &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t off;
    napi_get_typedarray_info(env, info[i], &type, &length, &data, &ab, &off);
    if (type == napi_uint16_array || type == napi_int32_array) {
      if (length > 0 && !data) throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " is detached");
      *idx16 = type == napi_uint16_array;
      *len = length;
      return data;
    }
  }
  throw Napi::TypeError::New(env, std::string(fn) + ": " + arg + " must be a Uint16Array or an Int32Array");
}

class SparseF32 : public Napi::ObjectWrap<SparseF32> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SparseF32",
                       {InstanceAccessor<&SparseF32::N>("n"), InstanceAccessor<&SparseF32::K>("k"),
                        InstanceAccessor<&SparseF32::Stored>("stored"), InstanceAccessor<&SparseF32::Nonzeros>("nonzeros"),
                        InstanceAccessor<&SparseF32::Bytes>("bytes"), InstanceAccessor<&SparseF32::HasDense>("hasDense")});
  }
  // new SparseF32(format, n, k, ptr: Int32Array|null, idx: Uint16Array|Int32Array|null, values: Float32Array,
  //               a, b, nib: Uint8Array|null) — a, b: block bh, bw (BSR) or n, m (N:M). Validates everything.
  explicit SparseF32(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<SparseF32>(info) {
    const char* fn = "toSparse";
    napi_env env = info.Env();
    SparseInput in;
    in.fmt = format_arg(info, 0, fn);
    in.n = size_arg(info, 1, fn, "n", size_t(1) << 31);
    in.k = size_arg(info, 2, fn, "k", size_t(1) << 31);
    if (in.fmt != SparseFormat::kNm) {
      in.ptr = typed_data<int32_t>(info, 3, fn, "rowPtr", 0, false, &in.ptr_len);
      in.idx = index_arg(info, 4, fn, "colIdx", &in.idx16, &in.idx_len);
    }
    in.val = typed_data<float>(info, 5, fn, "values", 0, false, &in.val_len);
    const size_t a = size_arg(info, 6, fn, "a", 1 << 16), b = size_arg(info, 7, fn, "b", 1 << 16);
    if (in.fmt == SparseFormat::kBsr) {
      in.bh = a;
      in.bw = b;
    } else if (in.fmt == SparseFormat::kNm) {
      in.nm_n = a;
      in.nm_m = b;
      in.nib = typed_data<uint8_t>(info, 8, fn, "indices", 0, false, &in.nib_len);
    }
    std::string err;
    std::unique_ptr<F32SparseWeights> w = F32SparseWeights::create(in, &err);
    if (!w) throw Napi::RangeError::New(env, std::string(fn) + ": " + err);
    w_ = std::shared_ptr<F32SparseWeights>(std::move(w));
    napi_type_tag_object(env, info.This(), &kSparseF32Tag);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(env, bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), "toSparse");
  }
  ~SparseF32() override { adjust_external_memory(Env(), -bytes_); }
  const std::shared_ptr<F32SparseWeights>& weights() const { return w_; }
  // The dense copy is made lazily by the first dense-path call: account for it then.
  void update_bytes(Napi::Env env) {
    const int64_t b = int64_t(w_->bytes());
    if (b != bytes_) {
      adjust_external_memory(env, b - bytes_);
      bytes_ = b;
    }
  }

 private:
  Napi::Value N(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->view().n)); }
  Napi::Value K(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->view().k)); }
  Napi::Value Stored(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->view().nnz_stored)); }
  Napi::Value Nonzeros(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->nonzeros())); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->bytes())); }
  Napi::Value HasDense(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), w_->has_dense()); }
  std::shared_ptr<F32SparseWeights> w_;
  int64_t bytes_ = 0;
};

SparseF32* unwrap_sparse(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  napi_env env = info.Env();
  napi_value v = info[i];
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  bool tagged = false;
  if (vt == napi_object) napi_check_object_type_tag(env, v, &kSparseF32Tag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, std::string(fn) + ": weights must be a SparseF32 handle");
  return SparseF32::Unwrap(Napi::Object(env, v));
}

const char* planned_kernel(F32SparseWeights& w, size_t m, SparseMode mode) {
  const F32SpmmVariant& v = f32_spmm_table.select();
  const bool dense = mode == SparseMode::kDense || (mode == SparseMode::kAuto && f32_spmm_prefer_dense(v, w.view(), m));
  if (dense) return f32_gemm_table.select().name;
  return f32_spmm_kernel_name(v, w.view().fmt, f32_spmm_auto_path(v, w.view(), m), m);
}

// sparseLinear(handle, x, m, out, bias|null, act, mode) -> name of the kernel that ran
Napi::Value SparseLinear(const Napi::CallbackInfo& info) {
  const char* fn = "linear";
  napi_env env = info.Env();
  SparseF32* h = unwrap_sparse(info, 0, fn);
  F32SparseWeights& w = *h->weights();
  const size_t m = size_arg(info, 2, fn, "m"), n = w.view().n, k = w.view().k;
  const float* x = typed_data<float>(info, 1, fn, "x", mul_sizes(env, fn, m, k));
  float* out = typed_data<float>(info, 3, fn, "out", mul_sizes(env, fn, m, n));
  const float* bias = typed_data<float>(info, 4, fn, "bias", n, true);
  const int act = act_arg(info, 5, fn);
  const SparseMode mode = mode_arg(info, 6, fn);
  check_sync_write(env, fn, out, m * n * sizeof(float));
  const char* kernel = f32_sparse_linear({&w, m, x, out, bias, act, mode});
  h->update_bytes(info.Env());
  return Napi::String::New(env, kernel);
}

// sparseKernelFor(handle, m, mode) -> the kernel name sparseLinear would run (no work done)
Napi::Value SparseKernelFor(const Napi::CallbackInfo& info) {
  const char* fn = "sparseKernelFor";
  SparseF32* h = unwrap_sparse(info, 0, fn);
  return Napi::String::New(info.Env(), planned_kernel(*h->weights(), size_arg(info, 1, fn, "m"), mode_arg(info, 2, fn)));
}

// sparseMaxDensity(handle, m) -> the crossover density for this handle's format at M = m
Napi::Value SparseMaxDensity(const Napi::CallbackInfo& info) {
  const char* fn = "sparseMaxDensity";
  SparseF32* h = unwrap_sparse(info, 0, fn);
  return Napi::Number::New(info.Env(),
                           f32_spmm_max_density(f32_spmm_table.select(), h->weights()->view(), size_arg(info, 1, fn, "m")));
}

// sparseLinearAsync(handle, x, m, out, bias|null, act, mode, id) -> Promise<out>
Napi::Value SparseLinearAsync(const Napi::CallbackInfo& info) {
  const char* fn = "linearAsync";
  napi_env env = info.Env();
  AsyncOp op(info, fn, 7);
  SparseF32* h = unwrap_sparse(info, 0, fn);
  std::shared_ptr<F32SparseWeights> w = h->weights();
  const size_t m = size_arg(info, 2, fn, "m"), n = w->view().n, k = w->view().k;
  const float* x = op.in<float>(1, "x", mul_sizes(env, fn, m, k));
  float* out = op.out<float>(3, "out", mul_sizes(env, fn, m, n));
  const float* bias = op.in<float>(4, "bias", n, true);
  const int act = act_arg(info, 5, fn);
  const SparseMode mode = mode_arg(info, 6, fn);
  op.pin(info[0]);
  op.keep(w);
  F32SparseWeights* wp = w.get();
  return op.submit([wp, m, x, out, bias, act, mode] { f32_sparse_linear({wp, m, x, out, bias, act, mode}); }, info[3]);
}

// sparseToDense(handle, out: Float32Array[n·k])
Napi::Value SparseToDense(const Napi::CallbackInfo& info) {
  const char* fn = "toDense";
  napi_env env = info.Env();
  SparseF32* h = unwrap_sparse(info, 0, fn);
  const F32SparseView& v = h->weights()->view();
  float* out = typed_data<float>(info, 1, fn, "out", mul_sizes(env, fn, v.n, v.k));
  f32_sparse_to_dense(v, out);
  return info.Env().Undefined();
}

// denseToSparse(w: Float32Array, n, k, format, a, b, idx16) -> { rowPtr, colIdx, values, indices }
Napi::Value DenseToSparse(const Napi::CallbackInfo& info) {
  const char* fn = "toSparse";
  napi_env env = info.Env();
  const size_t n = size_arg(info, 1, fn, "n", size_t(1) << 31), k = size_arg(info, 2, fn, "k", size_t(1) << 31);
  const float* w = typed_data<float>(info, 0, fn, "w", mul_sizes(env, fn, n, k));
  const SparseFormat f = format_arg(info, 3, fn);
  const size_t a = size_arg(info, 4, fn, "a", 1 << 16), b = size_arg(info, 5, fn, "b", 1 << 16);
  const bool idx16 = bool_arg(info, 6);
  if (idx16 && ((f == SparseFormat::kCsr && k > 65536) || (f == SparseFormat::kBsr && b > 0 && (k + b - 1) / b > 65536)))
    throw Napi::RangeError::New(env, std::string(fn) + ": 16-bit indices need at most 65536 columns");
  SparseSizes s;
  const std::string err = f32_dense_to_sparse_sizes(w, n, k, f, a, b, &s);
  if (!err.empty()) throw Napi::RangeError::New(env, std::string(fn) + ": " + err);
  // Through new_array_buffer: an allocation that fails is a RangeError, never V8's fatal out-of-memory.
  auto make = [&](auto tag, size_t len) {
    using T = decltype(tag);
    return Napi::TypedArrayOf<T>::New(env, len, new_array_buffer(env, fn, checked_bytes(len, sizeof(T))).As<Napi::ArrayBuffer>(), 0);
  };
  Napi::Int32Array ptr = make(int32_t(), s.ptr_len);
  Napi::TypedArray idx = idx16 ? Napi::TypedArray(make(uint16_t(), s.idx_len)) : Napi::TypedArray(make(int32_t(), s.idx_len));
  Napi::Float32Array val = make(float(), s.val_len);
  Napi::Uint8Array nib = make(uint8_t(), s.nib_len);
  void* idx_data = idx16 ? static_cast<void*>(idx.As<Napi::Uint16Array>().Data())
                         : static_cast<void*>(idx.As<Napi::Int32Array>().Data());
  f32_dense_to_sparse_fill(w, n, k, f, a, b, ptr.Data(), idx_data, idx16, val.Data(), nib.Data());
  Napi::Object o = Napi::Object::New(env);
  o.Set("rowPtr", ptr);
  o.Set("colIdx", idx);
  o.Set("values", val);
  o.Set("indices", nib);
  return o;
}

// pruneF32(w, n, k, pattern, sparsity, perRow, a, b, out, mask|null) -> zeros in out
Napi::Value PruneF32(const Napi::CallbackInfo& info) {
  const char* fn = "prune";
  napi_env env = info.Env();
  F32PruneArgs p;
  p.n = size_arg(info, 1, fn, "n");
  p.k = size_arg(info, 2, fn, "k");
  const size_t total = mul_sizes(env, fn, p.n, p.k);
  p.w = typed_data<float>(info, 0, fn, "w", total);
  const int pat = int_arg(info, 3);
  if (pat < 0 || pat > 2)
    throw Napi::RangeError::New(env, std::string(fn) + ": pattern code must be 0, 1 or 2, got " + std::to_string(pat));
  p.pattern = PrunePattern(pat);
  p.sparsity = num_arg(info, 4);
  p.per_row = bool_arg(info, 5);
  const size_t a = size_arg(info, 6, fn, "a", 1 << 16), b = size_arg(info, 7, fn, "b", 1 << 16);
  if (p.pattern == PrunePattern::kNm) {
    p.nm_n = a;
    p.nm_m = b;
  } else if (p.pattern == PrunePattern::kBlock) {
    p.bh = a;
    p.bw = b;
  }
  p.out = typed_data<float>(info, 8, fn, "out", total);
  p.mask = is_null(info, 9) ? nullptr : typed_data<uint8_t>(info, 9, fn, "mask", total);
  const std::string err = f32_prune_check(p);
  if (!err.empty()) throw Napi::RangeError::New(env, std::string(fn) + ": " + err);
  check_sync_write(env, fn, p.out, total * sizeof(float));
  if (total == 0) return Napi::Number::New(env, 0.0);  // n or k is 0: the other is unchecked, never loop over it
  return Napi::Number::New(env, double(f32_prune(p)));
}

// ---- int8 ------------------------------------------------------------------------------------------------

const napi_type_tag kSparseS8Tag = {0x7c2e94b1d35a08f6ull, 0x4e8b1f27a9c6d350ull};

class SparseS8 : public Napi::ObjectWrap<SparseS8> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SparseS8",
                       {InstanceAccessor<&SparseS8::N>("n"), InstanceAccessor<&SparseS8::K>("k"),
                        InstanceAccessor<&SparseS8::Groups>("storedGroups"),
                        InstanceAccessor<&SparseS8::Nonzeros>("nonzeros"), InstanceAccessor<&SparseS8::Bytes>("bytes"),
                        InstanceAccessor<&SparseS8::HasDense>("hasDense")});
  }
  // new SparseS8(format, n, k, ptr|null, idx|null, values: Int8Array, a, b, nib|null, scales: Float32Array[n])
  explicit SparseS8(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<SparseS8>(info) {
    const char* fn = "toSparse";
    napi_env env = info.Env();
    SparseInput in;
    in.fmt = format_arg(info, 0, fn);
    in.n = size_arg(info, 1, fn, "n", size_t(1) << 31);
    in.k = size_arg(info, 2, fn, "k", size_t(1) << 31);
    if (in.fmt != SparseFormat::kNm) {
      in.ptr = typed_data<int32_t>(info, 3, fn, "rowPtr", 0, false, &in.ptr_len);
      in.idx = index_arg(info, 4, fn, "colIdx", &in.idx16, &in.idx_len);
    }
    size_t nv = 0;
    const int8_t* q = typed_data<int8_t>(info, 5, fn, "values", 0, false, &nv);
    std::vector<float> vals(q, q + nv);  // one validator for both dtypes: it reads float values
    in.val = vals.data();
    in.val_len = nv;
    const size_t a = size_arg(info, 6, fn, "a", 1 << 16), b = size_arg(info, 7, fn, "b", 1 << 16);
    if (in.fmt == SparseFormat::kBsr) {
      in.bh = a;
      in.bw = b;
    } else if (in.fmt == SparseFormat::kNm) {
      in.nm_n = a;
      in.nm_m = b;
      in.nib = typed_data<uint8_t>(info, 8, fn, "indices", 0, false, &in.nib_len);
    }
    size_t ns = 0;
    const float* sc = typed_data<float>(info, 9, fn, "scales", 0, false, &ns);
    std::string err;
    std::unique_ptr<S8SparseWeights> w = S8SparseWeights::create(in, sc, ns, &err);
    if (!w) throw Napi::RangeError::New(env, std::string(fn) + ": " + err);
    w_ = std::shared_ptr<S8SparseWeights>(std::move(w));
    napi_type_tag_object(env, info.This(), &kSparseS8Tag);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(env, bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), "toSparse");
  }
  ~SparseS8() override { adjust_external_memory(Env(), -bytes_); }
  const std::shared_ptr<S8SparseWeights>& weights() const { return w_; }
  void update_bytes(Napi::Env env) {
    const int64_t b = int64_t(w_->bytes());
    if (b != bytes_) {
      adjust_external_memory(env, b - bytes_);
      bytes_ = b;
    }
  }

 private:
  Napi::Value N(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->view().n)); }
  Napi::Value K(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->view().k)); }
  Napi::Value Groups(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->view().stored_groups())); }
  Napi::Value Nonzeros(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->nonzeros())); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->bytes())); }
  Napi::Value HasDense(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), w_->has_dense()); }
  std::shared_ptr<S8SparseWeights> w_;
  int64_t bytes_ = 0;
};

SparseS8* unwrap_sparse_s8(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  napi_env env = info.Env();
  napi_value v = info[i];
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  bool tagged = false;
  if (vt == napi_object) napi_check_object_type_tag(env, v, &kSparseS8Tag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, std::string(fn) + ": weights must be a SparseS8 handle");
  return SparseS8::Unwrap(Napi::Object(env, v));
}

// sparseS8Linear(handle, x: Float32Array, m, out, bias|null, act, mode) -> kernel name
Napi::Value SparseS8Linear(const Napi::CallbackInfo& info) {
  const char* fn = "linear";
  napi_env env = info.Env();
  SparseS8* h = unwrap_sparse_s8(info, 0, fn);
  S8SparseWeights& w = *h->weights();
  const size_t m = size_arg(info, 2, fn, "m"), n = w.view().n, k = w.view().k;
  const float* x = typed_data<float>(info, 1, fn, "x", mul_sizes(env, fn, m, k));
  float* out = typed_data<float>(info, 3, fn, "out", mul_sizes(env, fn, m, n));
  const float* bias = typed_data<float>(info, 4, fn, "bias", n, true);
  const int act = act_arg(info, 5, fn);
  const SparseMode mode = mode_arg(info, 6, fn);
  check_sync_write(env, fn, out, m * n * sizeof(float));
  const char* kernel = s8_sparse_linear({&w, m, x, out, bias, act, mode});
  h->update_bytes(info.Env());
  return Napi::String::New(env, kernel);
}

// sparseS8LinearAsync(handle, x, m, out, bias|null, act, mode, id) -> Promise<out>
Napi::Value SparseS8LinearAsync(const Napi::CallbackInfo& info) {
  const char* fn = "linearAsync";
  napi_env env = info.Env();
  AsyncOp op(info, fn, 7);
  std::shared_ptr<S8SparseWeights> w = unwrap_sparse_s8(info, 0, fn)->weights();
  const size_t m = size_arg(info, 2, fn, "m"), n = w->view().n, k = w->view().k;
  const float* x = op.in<float>(1, "x", mul_sizes(env, fn, m, k));
  float* out = op.out<float>(3, "out", mul_sizes(env, fn, m, n));
  const float* bias = op.in<float>(4, "bias", n, true);
  const int act = act_arg(info, 5, fn);
  const SparseMode mode = mode_arg(info, 6, fn);
  op.pin(info[0]);
  op.keep(w);
  S8SparseWeights* wp = w.get();
  return op.submit([wp, m, x, out, bias, act, mode] { s8_sparse_linear({wp, m, x, out, bias, act, mode}); }, info[3]);
}

// sparseS8KernelFor(handle, m, mode) -> kernel name
Napi::Value SparseS8KernelFor(const Napi::CallbackInfo& info) {
  const char* fn = "sparseKernelFor";
  SparseS8* h = unwrap_sparse_s8(info, 0, fn);
  return Napi::String::New(info.Env(), s8_sparse_kernel_for(*h->weights(), size_arg(info, 1, fn, "m"), mode_arg(info, 2, fn)));
}

// sparseS8MaxDensity(handle, m) -> crossover work density
Napi::Value SparseS8MaxDensity(const Napi::CallbackInfo& info) {
  const char* fn = "sparseMaxDensity";
  unwrap_sparse_s8(info, 0, fn);
  return Napi::Number::New(info.Env(), s8_spmm_max_density(s8_spmm_table.select(), size_arg(info, 1, fn, "m")));
}

// sparseS8ToDense(handle, out: Int8Array[n·k])
Napi::Value SparseS8ToDense(const Napi::CallbackInfo& info) {
  const char* fn = "toDense";
  napi_env env = info.Env();
  SparseS8* h = unwrap_sparse_s8(info, 0, fn);
  const S8SparseView& v = h->weights()->view();
  int8_t* out = typed_data<int8_t>(info, 1, fn, "out", mul_sizes(env, fn, v.n, v.k));
  h->weights()->to_dense(out);
  return info.Env().Undefined();
}

}  // namespace

void init_sparse(Napi::Env env, Napi::Object exports) {
  exports.Set("SparseF32", SparseF32::Define(env));
  export_fn<SparseLinear>(env, exports, "sparseLinear");
  export_fn<SparseLinearAsync>(env, exports, "sparseLinearAsync");
  export_fn<SparseKernelFor>(env, exports, "sparseKernelFor");
  export_fn<SparseMaxDensity>(env, exports, "sparseMaxDensity");
  export_fn<SparseToDense>(env, exports, "sparseToDense");
  export_fn<DenseToSparse>(env, exports, "denseToSparse");
  export_fn<PruneF32>(env, exports, "pruneF32");
  exports.Set("SparseS8", SparseS8::Define(env));
  export_fn<SparseS8Linear>(env, exports, "sparseS8Linear");
  export_fn<SparseS8LinearAsync>(env, exports, "sparseS8LinearAsync");
  export_fn<SparseS8KernelFor>(env, exports, "sparseS8KernelFor");
  export_fn<SparseS8MaxDensity>(env, exports, "sparseS8MaxDensity");
  export_fn<SparseS8ToDense>(env, exports, "sparseS8ToDense");
}

}  // namespace binding
}  // namespace simdtensor
