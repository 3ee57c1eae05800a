// N-API glue for the windowed f32 ops: depthwise conv, pooling, global pooling, resize, each sync and async.
// No math here: arguments are parsed once (the same parser serves both forms), then a runtime driver runs.
#include <string>

#include "binding/async.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "runtime/conv/dwconv_driver.h"
#include "runtime/conv/pool_driver.h"
#include "runtime/conv/resize_driver.h"
#include "runtime/f32/transpose_driver.h"

namespace simdtensor {
namespace binding {

namespace {

// Buffers for the sync form: validated, and `out` refused while an async op in flight owns it.
struct SyncIo {
  const Napi::CallbackInfo& info;
  const char* fn;
  template <class T>
  const T* in(size_t i, const char* arg, size_t n, bool nullable = false) {
    return typed_data<T>(info, i, fn, arg, n, nullable);
  }
  template <class T>
  T* out(size_t i, const char* arg, size_t n) {
    T* p = typed_data<T>(info, i, fn, arg, n);
    check_sync_write(info.Env(), fn, p, n * sizeof(T));
    return p;
  }
};
// Buffers for the async form: validated, pinned and registered as busy ranges until the op settles.
struct AsyncIo {
  AsyncOp& op;
  template <class T>
  const T* in(size_t i, const char* arg, size_t n, bool nullable = false) {
    return op.in<T>(i, arg, n, nullable);
  }
  template <class T>
  T* out(size_t i, const char* arg, size_t n) {
    return op.out<T>(i, arg, n);
  }
};

// The Int32Array of integer parameters, copied out (it is read here, on the JS thread, only).
struct Ints {
  const int32_t* p;
  const char* fn;
  napi_env env;
  size_t at(size_t i, const char* name, size_t lo = 0) const {
    const int32_t v = p[i];
    if (v < 0 || size_t(v) < lo)
      throw Napi::RangeError::New(env, std::string(fn) + ": " + name + " must be >= " + std::to_string(lo) + ", got " +
                                           std::to_string(v));
    return size_t(v);
  }
};
Ints ints(const Napi::CallbackInfo& info, size_t i, const char* fn, size_t count) {
  return Ints{typed_data<int32_t>(info, i, fn, "params", count), fn, info.Env()};
}

size_t prod(napi_env env, const char* fn, std::initializer_list<size_t> xs) {
  size_t r = 1;
  for (size_t x : xs) r = mul_sizes(env, fn, r, x);
  return r;
}

void check_no_overlap(napi_env env, const char* fn, const float* x, size_t nx, const float* y, size_t ny) {
  if (nx && ny && x < y + ny && y < x + nx) throw Napi::RangeError::New(env, std::string(fn) + ": out must not overlap x");
}

// depthwiseConv2d(x, w, bias|null, out, params: Int32Array(18), actA, actB[, id])
// params: nhwc, wHwc, n, c, mult, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, act
template <class Io>
DwconvArgs parse_dwconv(const Napi::CallbackInfo& info, const char* fn, Io& io) {
  napi_env env = info.Env();
  const Ints q = ints(info, 4, fn, 18);
  DwconvArgs a{};
  a.nhwc = q.at(0, "nhwc") != 0, a.w_hwc = q.at(1, "wHwc") != 0;
  a.n = q.at(2, "n"), a.c = q.at(3, "c"), a.mult = q.at(4, "mult", 1);
  a.ih = q.at(5, "ih"), a.iw = q.at(6, "iw"), a.oh = q.at(7, "oh"), a.ow = q.at(8, "ow");
  a.kh = q.at(9, "kh", 1), a.kw = q.at(10, "kw", 1), a.sh = q.at(11, "sh", 1), a.sw = q.at(12, "sw", 1);
  a.dh = q.at(13, "dh", 1), a.dw = q.at(14, "dw", 1), a.pt = q.at(15, "pt"), a.pl = q.at(16, "pl");
  a.act.code = int(q.at(17, "act"));
  a.act.a = float(num_arg(info, 5)), a.act.b = float(num_arg(info, 6));
  if (!conv_act_valid(a.act)) throw Napi::RangeError::New(env, std::string(fn) + ": bad activation code");
  const size_t oc = mul_sizes(env, fn, a.c, a.mult);
  const size_t nx = prod(env, fn, {a.n, a.c, a.ih, a.iw}), ny = prod(env, fn, {a.n, oc, a.oh, a.ow});
  a.x = io.template in<float>(0, "x", nx);
  a.w = io.template in<float>(1, "w", prod(env, fn, {oc, a.kh, a.kw}));
  a.bias = io.template in<float>(2, "bias", oc, true);
  a.y = io.template out<float>(3, "out", ny);
  check_no_overlap(env, fn, a.x, nx, a.y, ny);
  return a;
}

Napi::Value DepthwiseConv2d(const Napi::CallbackInfo& info) {
  SyncIo io{info, "depthwiseConv2d"};
  f32_dwconv_run(f32_dwconv_table.select(), parse_dwconv(info, io.fn, io));
  return Napi::Value();
}
Napi::Value DepthwiseConv2dAsync(const Napi::CallbackInfo& info) {
  const char* fn = "depthwiseConv2dAsync";
  AsyncOp op(info, fn, 7);
  AsyncIo io{op};
  const DwconvArgs a = parse_dwconv(info, fn, io);
  const F32DwconvVariant& v = f32_dwconv_table.select();
  const double cost = 2.0 * double(a.n * a.c * a.mult) * double(a.oh * a.ow) * double(a.kh * a.kw);
  return op.submit([&v, a] { f32_dwconv_run(v, a); }, info[3], cost);
}

// pool2d(x, out, params: Int32Array(19)[, id])
// params: kind, nhwc, n, c, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, countIncludePad
template <class Io>
PoolArgs parse_pool(const Napi::CallbackInfo& info, const char* fn, Io& io) {
  napi_env env = info.Env();
  const Ints q = ints(info, 2, fn, 19);
  PoolArgs a{};
  a.kind = int(q.at(0, "kind"));
  if (a.kind != kPoolMax && a.kind != kPoolAvg) throw Napi::RangeError::New(env, std::string(fn) + ": bad pool kind");
  a.nhwc = q.at(1, "nhwc") != 0;
  a.n = q.at(2, "n"), a.c = q.at(3, "c"), a.ih = q.at(4, "ih"), a.iw = q.at(5, "iw"), a.oh = q.at(6, "oh"), a.ow = q.at(7, "ow");
  a.kh = q.at(8, "kh", 1), a.kw = q.at(9, "kw", 1), a.sh = q.at(10, "sh", 1), a.sw = q.at(11, "sw", 1);
  a.dh = q.at(12, "dh", 1), a.dw = q.at(13, "dw", 1);
  a.pt = q.at(14, "pt"), a.pl = q.at(15, "pl"), a.pb = q.at(16, "pb"), a.pr = q.at(17, "pr");
  a.count_include_pad = q.at(18, "countIncludePad") != 0;
  const size_t nx = prod(env, fn, {a.n, a.c, a.ih, a.iw}), ny = prod(env, fn, {a.n, a.c, a.oh, a.ow});
  a.x = io.template in<float>(0, "x", nx);
  a.y = io.template out<float>(1, "out", ny);
  check_no_overlap(env, fn, a.x, nx, a.y, ny);
  return a;
}
Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  SyncIo io{info, "pool2d"};
  f32_pool_run(f32_pool_table.select(), parse_pool(info, io.fn, io));
  return Napi::Value();
}
Napi::Value Pool2dAsync(const Napi::CallbackInfo& info) {
  const char* fn = "pool2dAsync";
  AsyncOp op(info, fn, 3);
  AsyncIo io{op};
  const PoolArgs a = parse_pool(info, fn, io);
  const F32PoolVariant& v = f32_pool_table.select();
  return op.submit([&v, a] { f32_pool_run(v, a); }, info[1], double(a.n * a.c) * double(a.oh * a.ow) * double(a.kh * a.kw));
}

// globalPool(x, out, params: Int32Array(5)[, id]); params: kind, nhwc, n, c, hw
struct GlobalArgs {
  int kind;
  bool nhwc;
  size_t n, c, hw;
  const float* x;
  float* y;
};
template <class Io>
GlobalArgs parse_global(const Napi::CallbackInfo& info, const char* fn, Io& io) {
  napi_env env = info.Env();
  const Ints q = ints(info, 2, fn, 5);
  GlobalArgs a{};
  a.kind = int(q.at(0, "kind"));
  if (a.kind != kPoolMax && a.kind != kPoolAvg) throw Napi::RangeError::New(env, std::string(fn) + ": bad pool kind");
  a.nhwc = q.at(1, "nhwc") != 0;
  a.n = q.at(2, "n"), a.c = q.at(3, "c"), a.hw = q.at(4, "hw", 1);
  const size_t nx = prod(env, fn, {a.n, a.c, a.hw}), ny = prod(env, fn, {a.n, a.c});
  a.x = io.template in<float>(0, "x", nx);
  a.y = io.template out<float>(1, "out", ny);
  check_no_overlap(env, fn, a.x, nx, a.y, ny);
  return a;
}
Napi::Value GlobalPool(const Napi::CallbackInfo& info) {
  SyncIo io{info, "globalPool"};
  const GlobalArgs a = parse_global(info, io.fn, io);
  f32_global_pool_run(f32_pool_table.select(), a.kind, a.nhwc, a.n, a.c, a.hw, a.x, a.y);
  return Napi::Value();
}
Napi::Value GlobalPoolAsync(const Napi::CallbackInfo& info) {
  const char* fn = "globalPoolAsync";
  AsyncOp op(info, fn, 3);
  AsyncIo io{op};
  const GlobalArgs a = parse_global(info, fn, io);
  const F32PoolVariant& v = f32_pool_table.select();
  return op.submit([&v, a] { f32_global_pool_run(v, a.kind, a.nhwc, a.n, a.c, a.hw, a.x, a.y); }, info[1],
                   double(a.n * a.c) * double(a.hw));
}

// resize(x, out, params: Int32Array(11), scaleH, scaleW[, id]);
// params: mode, coord, nearest, nhwc, n, c, ih, iw, oh, ow, fromSizes
template <class Io>
ResizeArgs parse_resize(const Napi::CallbackInfo& info, const char* fn, Io& io) {
  napi_env env = info.Env();
  const Ints q = ints(info, 2, fn, 11);
  ResizeArgs a{};
  a.mode = int(q.at(0, "mode")), a.coord = int(q.at(1, "coord")), a.nearest = int(q.at(2, "nearest"));
  if (a.mode > kResizeLinear || a.coord >= kCoordCount || a.nearest >= kNearestCount)
    throw Napi::RangeError::New(env, std::string(fn) + ": bad mode, coordinate transformation or nearest mode code");
  a.nhwc = q.at(3, "nhwc") != 0;
  a.n = q.at(4, "n"), a.c = q.at(5, "c"), a.ih = q.at(6, "ih", 1), a.iw = q.at(7, "iw", 1);
  a.oh = q.at(8, "oh"), a.ow = q.at(9, "ow"), a.from_sizes = q.at(10, "fromSizes") != 0;
  a.scale_h = float(num_arg(info, 3)), a.scale_w = float(num_arg(info, 4));
  if (!(a.scale_h > 0 && a.scale_w > 0 && a.scale_h < 1e30f && a.scale_w < 1e30f))
    throw Napi::RangeError::New(env, std::string(fn) + ": scales must be positive and finite");
  const size_t nx = prod(env, fn, {a.n, a.c, a.ih, a.iw}), ny = prod(env, fn, {a.n, a.c, a.oh, a.ow});
  a.x = io.template in<float>(0, "x", nx);
  a.y = io.template out<float>(1, "out", ny);
  check_no_overlap(env, fn, a.x, nx, a.y, ny);
  return a;
}
Napi::Value Resize(const Napi::CallbackInfo& info) {
  SyncIo io{info, "resize"};
  f32_resize_run(f32_resize_table.select(), parse_resize(info, io.fn, io));
  return Napi::Value();
}
Napi::Value ResizeAsync(const Napi::CallbackInfo& info) {
  const char* fn = "resizeAsync";
  AsyncOp op(info, fn, 5);
  AsyncIo io{op};
  const ResizeArgs a = parse_resize(info, fn, io);
  const F32ResizeVariant& v = f32_resize_table.select();
  return op.submit([&v, a] { f32_resize_run(v, a); }, info[1], 4.0 * double(a.n * a.c) * double(a.oh * a.ow));
}


// transposeBatched(x, out, params: Int32Array(3)[, id]); params: batch, rows, cols. out[b][j][i] = x[b][i][j]
// (nchwToNhwc is (N, C, H·W), nhwcToNchw (N, H·W, C)).
struct TransposeArgs {
  size_t batch, rows, cols;
  const float* x;
  float* y;
};
template <class Io>
TransposeArgs parse_transpose(const Napi::CallbackInfo& info, const char* fn, Io& io) {
  napi_env env = info.Env();
  const Ints q = ints(info, 2, fn, 3);
  TransposeArgs a{};
  a.batch = q.at(0, "batch"), a.rows = q.at(1, "rows"), a.cols = q.at(2, "cols");
  const size_t n = prod(env, fn, {a.batch, a.rows, a.cols});
  a.x = io.template in<float>(0, "x", n);
  a.y = io.template out<float>(1, "out", n);
  check_no_overlap(env, fn, a.x, n, a.y, n);
  return a;
}
Napi::Value TransposeBatched(const Napi::CallbackInfo& info) {
  SyncIo io{info, "transposeBatched"};
  const TransposeArgs a = parse_transpose(info, io.fn, io);
  f32_transpose_batched(f32_transpose_table.select(), a.batch, a.rows, a.cols, a.x, a.y);
  return Napi::Value();
}
Napi::Value TransposeBatchedAsync(const Napi::CallbackInfo& info) {
  const char* fn = "transposeBatchedAsync";
  AsyncOp op(info, fn, 3);
  AsyncIo io{op};
  const TransposeArgs a = parse_transpose(info, fn, io);
  const F32TransposeVariant& v = f32_transpose_table.select();
  return op.submit([&v, a] { f32_transpose_batched(v, a.batch, a.rows, a.cols, a.x, a.y); }, info[1],
                   double(a.batch) * double(a.rows) * double(a.cols));
}

}  // namespace

void init_pool(Napi::Env env, Napi::Object exports) {
  export_fn<DepthwiseConv2d>(env, exports, "depthwiseConv2d");
  export_fn<DepthwiseConv2dAsync>(env, exports, "depthwiseConv2dAsync");
  export_fn<Pool2d>(env, exports, "pool2d");
  export_fn<Pool2dAsync>(env, exports, "pool2dAsync");
  export_fn<GlobalPool>(env, exports, "globalPool");
  export_fn<GlobalPoolAsync>(env, exports, "globalPoolAsync");
  export_fn<Resize>(env, exports, "resize");
  export_fn<ResizeAsync>(env, exports, "resizeAsync");
  export_fn<TransposeBatched>(env, exports, "transposeBatched");
  export_fn<TransposeBatchedAsync>(env, exports, "transposeBatchedAsync");
}

}  // namespace binding
}  // namespace simdtensor
