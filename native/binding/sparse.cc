// N-API glue for sparse weights: the validated native handles (SparseF32, SparseS8), sparse linear (sync and async
// from one description), dense <-> sparse conversion and magnitude pruning. No math here: everything calls the plain
// C++ entry points.
#include <memory>
#include <string>
#include <type_traits>

#include "binding/op.h"
#include "cpu/dispatch.h"
#include "runtime/sparse/prune.h"
#include "runtime/sparse/s8.h"
#include "runtime/sparse/weights.h"
#include "runtime/sparse/spmm_driver.h"
#include "runtime/sparse/s8_sparse_input.h"

namespace simdtensor {
namespace binding {
namespace {

SparseFormat format_arg(OpArgs& a, size_t i) {
  const int f = a.i32(i);
  if (f < 0 || f > 2) a.range_error("format code must be 0 (csr), 1 (bsr) or 2 (n:m), got " + std::to_string(f));
  return SparseFormat(f);
}

SparseMode mode_arg(OpArgs& a, size_t i) {
  const int m = a.i32(i);
  if (m < 0 || m > 2) a.range_error("mode must be 0 (auto), 1 (sparse) or 2 (dense), got " + std::to_string(m));
  return SparseMode(m);
}

// An index array: Uint16Array or Int32Array.
const void* index_arg(OpArgs& a, size_t i, const char* arg, bool* idx16, size_t* len) {
  napi_env env = a.env();
  napi_value v = a.info()[i];
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t off;
    napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off);
    if (type == napi_uint16_array || type == napi_int32_array) {
      if (length > 0 && !data) a.type_error(std::string(arg) + " is detached");
      *idx16 = type == napi_uint16_array;
      *len = length;
      return data;
    }
  }
  a.type_error(std::string(arg) + " must be a Uint16Array or an Int32Array");
}

// The arguments both sparse handles share: (format, n, k, ptr|null, idx|null, <values>, a, b, nib|null) with the
// values at info[5] left to the caller.
SparseInput sparse_input(OpArgs& a) {
  SparseInput in;
  in.fmt = format_arg(a, 0);
  in.n = a.size(1, "n", size_t(1) << 31);
  in.k = a.size(2, "k", size_t(1) << 31);
  if (in.fmt != SparseFormat::kNm) {
    in.ptr = a.now<int32_t>(3, "rowPtr", 0, false, &in.ptr_len);
    in.idx = index_arg(a, 4, "colIdx", &in.idx16, &in.idx_len);
  }
  return in;
}
// (a, b) at info[6], info[7]: block bh, bw (BSR) or n, m (N:M, whose nibble indices are info[8]).
void sparse_shape(OpArgs& a, SparseInput* in) {
  const size_t x = a.size(6, "a", 1 << 16), y = a.size(7, "b", 1 << 16);
  if (in->fmt == SparseFormat::kBsr) {
    in->bh = x;
    in->bw = y;
  } else if (in->fmt == SparseFormat::kNm) {
    in->nm_n = x;
    in->nm_m = y;
    in->nib = a.now<uint8_t>(8, "indices", 0, false, &in->nib_len);
  }
}

// Shape and counts of either weight kind (f32 weights may hold their arrays in another form: no pointers here).
const F32SparseView& shape_of(const F32SparseWeights& w) { return w.shape(); }
const S8SparseView& shape_of(const S8SparseWeights& w) { return w.view(); }

}  // namespace

// new SparseF32(format, n, k, ptr: Int32Array|null, idx: Uint16Array|Int32Array|null, values: Float32Array,
//               a, b, nib: Uint8Array|null). Validates everything.
const HandleKind<F32SparseWeights> kSparseF32Handle{
    "SparseF32", "toSparse", "weights must be a SparseF32 handle",
    {0x3b7e51d09a2c46f8ull, 0x91d4a6e2c07f5b13ull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      OpArgs a(info, fn, nullptr);
      SparseInput in = sparse_input(a);
      in.val = a.now<float>(5, "values", 0, false, &in.val_len);
      sparse_shape(a, &in);
      std::string err;
      std::unique_ptr<F32SparseWeights> w = F32SparseWeights::create(in, &err);
      if (!w) a.range_error(err);
      return std::shared_ptr<F32SparseWeights>(std::move(w));
    },
    {{"n", [](const F32SparseWeights& w) { return double(w.shape().n); }, false},
     {"k", [](const F32SparseWeights& w) { return double(w.shape().k); }, false},
     {"stored", [](const F32SparseWeights& w) { return double(w.shape().nnz_stored); }, false},
     {"nonzeros", [](const F32SparseWeights& w) { return double(w.nonzeros()); }, false},
     {"bytes", [](const F32SparseWeights& w) { return double(w.bytes()); }, false},
     {"hasDense", [](const F32SparseWeights& w) { return w.has_dense() ? 1.0 : 0.0; }, true}}};

// new SparseS8(format, n, k, ptr|null, idx|null, values: Int8Array, a, b, nib|null, scales: Float32Array[n])
const HandleKind<S8SparseWeights> kSparseS8Handle{
    "SparseS8", "toSparse", "weights must be a SparseS8 handle",
    {0x7c2e94b1d35a08f6ull, 0x4e8b1f27a9c6d350ull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      OpArgs a(info, fn, nullptr);
      SparseInput in = sparse_input(a);
      size_t nv = 0, ns = 0;
      const int8_t* q = a.now<int8_t>(5, "values", 0, false, &nv);
      sparse_shape(a, &in);
      const float* sc = a.now<float>(9, "scales", 0, false, &ns);
      std::string err;
      std::unique_ptr<S8SparseWeights> w = s8_sparse_create(in, q, nv, sc, ns, &err);
      if (!w) a.range_error(err);
      return std::shared_ptr<S8SparseWeights>(std::move(w));
    },
    {{"n", [](const S8SparseWeights& w) { return double(w.view().n); }, false},
     {"k", [](const S8SparseWeights& w) { return double(w.view().k); }, false},
     {"storedGroups", [](const S8SparseWeights& w) { return double(w.view().stored_groups()); }, false},
     {"nonzeros", [](const S8SparseWeights& w) { return double(w.nonzeros()); }, false},
     {"bytes", [](const S8SparseWeights& w) { return double(w.bytes()); }, false},
     {"hasDense", [](const S8SparseWeights& w) { return w.has_dense() ? 1.0 : 0.0; }, true}}};

namespace {

// sparseLinear(handle, x, m, out, bias|null, act, mode[, id]) -> the kernel that ran; sparseS8Linear the same over
// an int8 handle (x and out f32). The sync form accounts for a dense copy the run made (done()).
template <class W, class Args, const HandleKind<W>& kKind, const char* (*kRun)(const Args&)>
struct SparseLinearOp {
  static constexpr size_t kArgs = 7, kResult = 3;
  struct Call {
    Handle<W>* h;  // the sync form's, for done()
    std::shared_ptr<W> w;
    Args x;
  };
  static Call parse(OpArgs& a) {
    Handle<W>* h = a.handle(0, kKind);
    Call c{h, h->weights(), Args{}};
    const size_t m = a.size(2, "m"), n = shape_of(*c.w).n, k = shape_of(*c.w).k;
    const float* x = a.in<float>(1, "x", a.mul(m, k));
    float* out = a.out<float>(3, "out", a.mul(m, n));
    const float* bias = a.in<float>(4, "bias", n, true);
    const int act = a.act(5);
    c.x = Args{c.w.get(), m, x, out, bias, act, mode_arg(a, 6)};
    return c;
  }
  static double cost(const Call&) { return -1; }  // the sparse path's work is not m·n·k: always to the pool
  static const char* run(const Call& c) { return kRun(c.x); }
  static void done(napi_env env, const Call& c) { c.h->update_bytes(env); }
};
struct SparseF32LinearOp : SparseLinearOp<F32SparseWeights, F32SparseLinearArgs, kSparseF32Handle, f32_sparse_linear> {
  static constexpr OpNames kNames{"sparseLinear", "linear", "sparseLinearAsync", "linearAsync"};
};
struct SparseS8LinearOp : SparseLinearOp<S8SparseWeights, S8SparseLinearArgs, kSparseS8Handle, s8_sparse_linear> {
  static constexpr OpNames kNames{"sparseS8Linear", "linear", "sparseS8LinearAsync", "linearAsync"};
};

const char* planned_kernel(F32SparseWeights& w, size_t m, SparseMode mode) { return f32_sparse_kernel_for(w, m, mode); }

const char* planned_kernel(S8SparseWeights& w, size_t m, SparseMode mode) { return s8_sparse_kernel_for(w, m, mode); }

// The crossover density for the handle's format at M = m (int8: the crossover work density).
double max_density(const F32SparseWeights& w, size_t m) {
  return f32_spmm_max_density(f32_spmm_table.select(), w.shape(), m);
}
double max_density(const S8SparseWeights&, size_t m) { return s8_spmm_max_density(s8_spmm_table.select(), m); }

// sparseKernelFor(handle, m, mode), sparseS8KernelFor -> the kernel name sparseLinear would run (no work done)
template <class W, const HandleKind<W>& kKind>
struct KernelForOp {
  struct Call {
    std::shared_ptr<W> w;
    size_t m;
    SparseMode mode;
  };
  static Call parse(OpArgs& a) { return Call{a.handle(0, kKind)->weights(), a.size(1, "m"), mode_arg(a, 2)}; }
  static const char* run(const Call& c) { return planned_kernel(*c.w, c.m, c.mode); }
};
struct SparseF32KernelForOp : KernelForOp<F32SparseWeights, kSparseF32Handle> {
  static constexpr OpNames kNames{"sparseKernelFor", "sparseKernelFor", nullptr, nullptr};
};
struct SparseS8KernelForOp : KernelForOp<S8SparseWeights, kSparseS8Handle> {
  static constexpr OpNames kNames{"sparseS8KernelFor", "sparseKernelFor", nullptr, nullptr};
};

// sparseMaxDensity(handle, m), sparseS8MaxDensity -> max_density()
template <class W, const HandleKind<W>& kKind>
struct MaxDensityOp {
  struct Call {
    std::shared_ptr<W> w;
    size_t m;
  };
  static Call parse(OpArgs& a) { return Call{a.handle(0, kKind)->weights(), a.size(1, "m")}; }
  static double run(const Call& c) { return max_density(*c.w, c.m); }
};
struct SparseF32MaxDensityOp : MaxDensityOp<F32SparseWeights, kSparseF32Handle> {
  static constexpr OpNames kNames{"sparseMaxDensity", "sparseMaxDensity", nullptr, nullptr};
};
struct SparseS8MaxDensityOp : MaxDensityOp<S8SparseWeights, kSparseS8Handle> {
  static constexpr OpNames kNames{"sparseS8MaxDensity", "sparseMaxDensity", nullptr, nullptr};
};

// sparseToDense(handle, out: Float32Array[n·k]); sparseS8ToDense(handle, out: Int8Array[n·k])
template <class W, const HandleKind<W>& kKind, class T>
struct ToDenseOp {
  struct Call {
    std::shared_ptr<W> w;
    T* out;
  };
  static Call parse(OpArgs& a) {
    Call c{a.handle(0, kKind)->weights(), nullptr};
    c.out = a.out<T>(1, "out", a.mul(shape_of(*c.w).n, shape_of(*c.w).k));
    return c;
  }
  static void run(const Call& c) { c.w->to_dense(c.out); }
};
struct SparseF32ToDenseOp : ToDenseOp<F32SparseWeights, kSparseF32Handle, float> {
  static constexpr OpNames kNames{"sparseToDense", "toDense", nullptr, nullptr};
};
struct SparseS8ToDenseOp : ToDenseOp<S8SparseWeights, kSparseS8Handle, int8_t> {
  static constexpr OpNames kNames{"sparseS8ToDense", "toDense", nullptr, nullptr};
};

// denseToSparse(w: Float32Array, n, k, format, a, b, idx16) -> { rowPtr, colIdx, values, indices }
Napi::Value DenseToSparse(const Napi::CallbackInfo& info) {
  const char* fn = "toSparse";
  napi_env env = info.Env();
  OpArgs args(info, fn, nullptr);
  const size_t n = args.size(1, "n", size_t(1) << 31), k = args.size(2, "k", size_t(1) << 31);
  const float* w = args.in<float>(0, "w", args.mul(n, k));
  const SparseFormat f = format_arg(args, 3);
  const size_t a = args.size(4, "a", 1 << 16), b = args.size(5, "b", 1 << 16);
  const bool idx16 = args.flag(6);
  if (idx16 && ((f == SparseFormat::kCsr && k > 65536) || (f == SparseFormat::kBsr && b > 0 && (k + b - 1) / b > 65536)))
    args.range_error("16-bit indices need at most 65536 columns");
  SparseSizes s;
  const std::string err = f32_dense_to_sparse_sizes(w, n, k, f, a, b, &s);
  if (!err.empty()) args.range_error(err);
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
struct PruneF32Op {
  static constexpr OpNames kNames{"pruneF32", "prune", nullptr, nullptr};
  using Call = F32PruneArgs;
  static Call parse(OpArgs& a) {
    F32PruneArgs p;
    p.n = a.size(1, "n");
    p.k = a.size(2, "k");
    const size_t total = a.mul(p.n, p.k);
    p.w = a.in<float>(0, "w", total);
    const int pat = a.i32(3);
    if (pat < 0 || pat > 2) a.range_error("pattern code must be 0, 1 or 2, got " + std::to_string(pat));
    p.pattern = PrunePattern(pat);
    p.sparsity = a.num(4);
    p.per_row = a.flag(5);
    const size_t x = a.size(6, "a", 1 << 16), y = a.size(7, "b", 1 << 16);
    if (p.pattern == PrunePattern::kNm) {
      p.nm_n = x;
      p.nm_m = y;
    } else if (p.pattern == PrunePattern::kBlock) {
      p.bh = x;
      p.bw = y;
    }
    p.out = a.out<float>(8, "out", total);
    p.mask = a.is_null(9) ? nullptr : a.out<uint8_t>(9, "mask", total);
    const std::string err = f32_prune_check(p);
    if (!err.empty()) a.range_error(err);
    return p;
  }
  // n or k is 0: the other is unchecked, never loop over it
  static double run(const Call& p) { return p.n == 0 || p.k == 0 ? 0.0 : double(f32_prune(p)); }
};

}  // namespace

void init_sparse(Napi::Env env, Napi::Object exports) {
  exports.Set("SparseF32", Handle<F32SparseWeights>::Define(env, kSparseF32Handle));
  export_ops<SparseF32LinearOp, SparseF32KernelForOp, SparseF32MaxDensityOp, SparseF32ToDenseOp>(env, exports);
  export_fn<DenseToSparse>(env, exports, "denseToSparse");
  export_op<PruneF32Op>(env, exports);
  exports.Set("SparseS8", Handle<S8SparseWeights>::Define(env, kSparseS8Handle));
  export_ops<SparseS8LinearOp, SparseS8KernelForOp, SparseS8MaxDensityOp, SparseS8ToDenseOp>(env, exports);
}

}  // namespace binding
}  // namespace simdtensor
