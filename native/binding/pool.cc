// N-API glue for the windowed f32 ops: depthwise conv, pooling, global pooling, resize, batched transpose, each
// op's sync and async form from one description. No math here: arguments are parsed once, then a driver runs.
#include <string>

#include "binding/op.h"
#include "cpu/dispatch.h"
#include "runtime/conv/dwconv_driver.h"
#include "runtime/conv/pool_driver.h"
#include "runtime/conv/resize_driver.h"
#include "runtime/f32/transpose_driver.h"

namespace simdtensor {
namespace binding {

namespace {

// The Int32Array of integer parameters (read here, on the JS thread, only).
struct Ints {
  const int32_t* p;
  const OpArgs& a;
  size_t at(size_t i, const char* name, size_t lo = 0) const {
    const int32_t v = p[i];
    if (v < 0 || size_t(v) < lo)
      a.range_error(std::string(name) + " must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
    return size_t(v);
  }
};
Ints ints(const OpArgs& a, size_t i, size_t count) { return Ints{a.now<int32_t>(i, "params", count), a}; }

size_t prod(const OpArgs& a, std::initializer_list<size_t> xs) {
  size_t r = 1;
  for (size_t x : xs) r = a.mul(r, x);
  return r;
}

template <class A>
void check_no_overlap(const OpArgs& args, const A& a, size_t nx, size_t ny) {
  if (nx && ny && a.x < a.y + ny && a.y < a.x + nx) args.range_error("out must not overlap x");
}

// The op's input x (nx floats, read, info[0]) and output (ny floats, written, info[1]) into a.x / a.y; they must
// not overlap.
template <class A>
void x_and_out(OpArgs& args, A& a, size_t nx, size_t ny) {
  a.x = args.in<float>(0, "x", nx);
  a.y = args.out<float>(1, "out", ny);
  check_no_overlap(args, a, nx, ny);
}

// The window at params[i..i+5]: kh, kw, sh, sw, dh, dw, each >= 1.
template <class A>
void window(const Ints& q, size_t i, A& a) {
  a.kh = q.at(i, "kh", 1), a.kw = q.at(i + 1, "kw", 1), a.sh = q.at(i + 2, "sh", 1), a.sw = q.at(i + 3, "sw", 1);
  a.dh = q.at(i + 4, "dh", 1), a.dw = q.at(i + 5, "dw", 1);
}

// The pool kind (max or average) at params[0].
int pool_kind(const OpArgs& args, const Ints& q) {
  const int kind = int(q.at(0, "kind"));
  if (kind != kPoolMax && kind != kPoolAvg) args.range_error("bad pool kind");
  return kind;
}

// depthwiseConv2d(x, w, bias|null, out, params: Int32Array(18), actA, actB[, id])
// params: nhwc, wHwc, n, c, mult, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, act
struct DwconvOp {
  static constexpr OpNames kNames{"depthwiseConv2d", "depthwiseConv2d", "depthwiseConv2dAsync", "depthwiseConv2dAsync"};
  static constexpr size_t kArgs = 7, kResult = 3;
  struct Call {
    const F32DwconvVariant* v;  // chosen on the JS thread, as the ISA cap stands at the call
    DwconvArgs a;
  };
  static Call parse(OpArgs& args) {
    Call c{&f32_dwconv_table.select(), DwconvArgs{}};
    const Ints q = ints(args, 4, 18);
    DwconvArgs& a = c.a;
    a.nhwc = q.at(0, "nhwc") != 0, a.w_hwc = q.at(1, "wHwc") != 0;
    a.n = q.at(2, "n"), a.c = q.at(3, "c"), a.mult = q.at(4, "mult", 1);
    a.ih = q.at(5, "ih"), a.iw = q.at(6, "iw"), a.oh = q.at(7, "oh"), a.ow = q.at(8, "ow");
    window(q, 9, a);
    a.pt = q.at(15, "pt"), a.pl = q.at(16, "pl");
    a.act.code = int(q.at(17, "act"));
    a.act.a = float(args.num(5)), a.act.b = float(args.num(6));
    if (!conv_act_valid(a.act)) args.range_error("bad activation code");
    const size_t oc = args.mul(a.c, a.mult);
    const size_t nx = prod(args, {a.n, a.c, a.ih, a.iw}), ny = prod(args, {a.n, oc, a.oh, a.ow});
    a.x = args.in<float>(0, "x", nx);
    a.w = args.in<float>(1, "w", prod(args, {oc, a.kh, a.kw}));
    a.bias = args.in<float>(2, "bias", oc, true);
    a.y = args.out<float>(3, "out", ny);
    check_no_overlap(args, a, nx, ny);
    return c;
  }
  static double cost(const Call& c) {
    const DwconvArgs& a = c.a;
    return 2.0 * double(a.n * a.c * a.mult) * double(a.oh * a.ow) * double(a.kh * a.kw);
  }
  static void run(const Call& c) { f32_dwconv_run(*c.v, c.a); }
};

// pool2d(x, out, params: Int32Array(19)[, id])
// params: kind, nhwc, n, c, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, countIncludePad
struct Pool2dOp {
  static constexpr OpNames kNames{"pool2d", "pool2d", "pool2dAsync", "pool2dAsync"};
  static constexpr size_t kArgs = 3, kResult = 1;
  struct Call {
    const F32PoolVariant* v;
    PoolArgs a;
  };
  static Call parse(OpArgs& args) {
    Call c{&f32_pool_table.select(), PoolArgs{}};
    const Ints q = ints(args, 2, 19);
    PoolArgs& a = c.a;
    a.kind = pool_kind(args, q);
    a.nhwc = q.at(1, "nhwc") != 0;
    a.n = q.at(2, "n"), a.c = q.at(3, "c"), a.ih = q.at(4, "ih"), a.iw = q.at(5, "iw"), a.oh = q.at(6, "oh"), a.ow = q.at(7, "ow");
    window(q, 8, a);
    a.pt = q.at(14, "pt"), a.pl = q.at(15, "pl"), a.pb = q.at(16, "pb"), a.pr = q.at(17, "pr");
    a.count_include_pad = q.at(18, "countIncludePad") != 0;
    const size_t nx = prod(args, {a.n, a.c, a.ih, a.iw}), ny = prod(args, {a.n, a.c, a.oh, a.ow});
    x_and_out(args, a, nx, ny);
    return c;
  }
  static double cost(const Call& c) { return double(c.a.n * c.a.c) * double(c.a.oh * c.a.ow) * double(c.a.kh * c.a.kw); }
  static void run(const Call& c) { f32_pool_run(*c.v, c.a); }
};

// globalPool(x, out, params: Int32Array(5)[, id]); params: kind, nhwc, n, c, hw
struct GlobalPoolOp {
  static constexpr OpNames kNames{"globalPool", "globalPool", "globalPoolAsync", "globalPoolAsync"};
  static constexpr size_t kArgs = 3, kResult = 1;
  struct Call {
    const F32PoolVariant* v;
    int kind;
    bool nhwc;
    size_t n, c, hw;
    const float* x;
    float* y;
  };
  static Call parse(OpArgs& args) {
    const Ints q = ints(args, 2, 5);
    Call a{};
    a.v = &f32_pool_table.select();
    a.kind = pool_kind(args, q);
    a.nhwc = q.at(1, "nhwc") != 0;
    a.n = q.at(2, "n"), a.c = q.at(3, "c"), a.hw = q.at(4, "hw", 1);
    const size_t nx = prod(args, {a.n, a.c, a.hw}), ny = prod(args, {a.n, a.c});
    x_and_out(args, a, nx, ny);
    return a;
  }
  static double cost(const Call& a) { return double(a.n * a.c) * double(a.hw); }
  static void run(const Call& a) { f32_global_pool_run(*a.v, a.kind, a.nhwc, a.n, a.c, a.hw, a.x, a.y); }
};

// resize(x, out, params: Int32Array(11), scaleH, scaleW[, id]);
// params: mode, coord, nearest, nhwc, n, c, ih, iw, oh, ow, fromSizes
struct ResizeOp {
  static constexpr OpNames kNames{"resize", "resize", "resizeAsync", "resizeAsync"};
  static constexpr size_t kArgs = 5, kResult = 1;
  struct Call {
    const F32ResizeVariant* v;
    ResizeArgs a;
  };
  static Call parse(OpArgs& args) {
    Call c{&f32_resize_table.select(), ResizeArgs{}};
    const Ints q = ints(args, 2, 11);
    ResizeArgs& a = c.a;
    a.mode = int(q.at(0, "mode")), a.coord = int(q.at(1, "coord")), a.nearest = int(q.at(2, "nearest"));
    if (a.mode > kResizeLinear || a.coord >= kCoordCount || a.nearest >= kNearestCount)
      args.range_error("bad mode, coordinate transformation or nearest mode code");
    a.nhwc = q.at(3, "nhwc") != 0;
    a.n = q.at(4, "n"), a.c = q.at(5, "c"), a.ih = q.at(6, "ih", 1), a.iw = q.at(7, "iw", 1);
    a.oh = q.at(8, "oh"), a.ow = q.at(9, "ow"), a.from_sizes = q.at(10, "fromSizes") != 0;
    a.scale_h = float(args.num(3)), a.scale_w = float(args.num(4));
    if (!(a.scale_h > 0 && a.scale_w > 0 && a.scale_h < 1e30f && a.scale_w < 1e30f))
      args.range_error("scales must be positive and finite");
    const size_t nx = prod(args, {a.n, a.c, a.ih, a.iw}), ny = prod(args, {a.n, a.c, a.oh, a.ow});
    x_and_out(args, a, nx, ny);
    return c;
  }
  static double cost(const Call& c) { return 4.0 * double(c.a.n * c.a.c) * double(c.a.oh * c.a.ow); }
  static void run(const Call& c) { f32_resize_run(*c.v, c.a); }
};

// transposeBatched(x, out, params: Int32Array(3)[, id]); params: batch, rows, cols. out[b][j][i] = x[b][i][j]
// (nchwToNhwc is (N, C, H·W), nhwcToNchw (N, H·W, C)).
struct TransposeBatchedOp {
  static constexpr OpNames kNames{"transposeBatched", "transposeBatched", "transposeBatchedAsync", "transposeBatchedAsync"};
  static constexpr size_t kArgs = 3, kResult = 1;
  struct Call {
    const F32TransposeVariant* v;
    size_t batch, rows, cols;
    const float* x;
    float* y;
  };
  static Call parse(OpArgs& args) {
    const Ints q = ints(args, 2, 3);
    Call a{};
    a.v = &f32_transpose_table.select();
    a.batch = q.at(0, "batch"), a.rows = q.at(1, "rows"), a.cols = q.at(2, "cols");
    const size_t n = prod(args, {a.batch, a.rows, a.cols});
    x_and_out(args, a, n, n);
    return a;
  }
  static double cost(const Call& a) { return double(a.batch) * double(a.rows) * double(a.cols); }
  static void run(const Call& a) { f32_transpose_batched(*a.v, a.batch, a.rows, a.cols, a.x, a.y); }
};

}  // namespace

void init_pool(Napi::Env env, Napi::Object exports) {
  export_ops<DwconvOp, Pool2dOp, GlobalPoolOp, ResizeOp, TransposeBatchedOp>(env, exports);
}

}  // namespace binding
}  // namespace simdtensor
