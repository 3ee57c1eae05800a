// N-API glue for the convolution family: packed f32 conv weights, conv2d / convTranspose2d and the int8 conv2d,
// each op's sync and async form from one description. No math here.
#include <cmath>
#include <memory>
#include <string>

#include "binding/op.h"
#include "cpu/dispatch.h"
#include "kernels/f32-conv/f32-conv.h"
#include "runtime/conv/conv_driver.h"
#include "runtime/conv/conv_weights.h"
#include "runtime/int8/conv.h"
#include "runtime/int8/packed_weights.h"
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {
namespace binding {

// new PackedConvF32(w: Float32Array, layout, c, m, kh, kw, groups, scale: Float32Array|null)
const HandleKind<PackedF32ConvWeights> kPackedConvHandle{
    "PackedConvF32", "packConvWeights", "weights must be a PackedConvF32 handle from packConvWeights()",
    {0x636f6e76'66333270ull, 0x61636b65'64776569ull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      OpArgs a(info, fn, nullptr);
      const int layout = a.i32(1);
      if (layout < kConvOIHW || layout > kConvHWOI) a.range_error("bad layout code");
      const size_t c = a.size(2, "c", 1 << 24), m = a.size(3, "m", 1 << 24);
      const size_t kh = a.size(4, "kh", 1 << 16), kw = a.size(5, "kw", 1 << 16);
      const size_t groups = a.size(6, "groups", 1 << 24);
      if (c == 0 || m == 0 || kh == 0 || kw == 0 || groups == 0 || c % groups || m % groups)
        a.range_error("c, m, kh, kw, groups must be positive and groups must divide c and m");
      const float* w = a.in<float>(0, "w", a.mul(a.mul(kh * kw, c / groups), m));
      const float* scale = a.in<float>(7, "scale", m, true);
      return std::make_shared<PackedF32ConvWeights>(w, layout, c, m, kh, kw, groups, scale,
                                                    f32_conv_variant_for(m / groups).nr);
    },
    {{"bytes", [](const PackedF32ConvWeights& w) { return double(w.bytes()); }, false}}};

namespace {

// geometry (Int32Array) = [n, h, w, sH, sW, dH, dW, padT, padL, padB, padR, transposed, outPadH, outPadW, nchw] at
// info[i], for weights of c input and m output channels, kh×kw, `groups`: the shape with oh/ow computed here.
ConvShape conv_geometry(OpArgs& a, size_t i, size_t c, size_t m, size_t kh, size_t kw, size_t groups, bool* nchw) {
  const int32_t* g = a.now<int32_t>(i, "geometry", 15);
  for (int j = 0; j < 15; j++)
    if (g[j] < 0) a.range_error("bad geometry value at " + std::to_string(j));
  ConvShape s{};
  s.n = size_t(g[0]);
  s.h = size_t(g[1]);
  s.w = size_t(g[2]);
  s.sh = size_t(g[3]);
  s.sw = size_t(g[4]);
  s.dh = size_t(g[5]);
  s.dw = size_t(g[6]);
  s.pad_t = size_t(g[7]);
  s.pad_l = size_t(g[8]);
  const size_t pad_b = size_t(g[9]), pad_r = size_t(g[10]);
  s.transposed = g[11] != 0;
  const size_t oph = size_t(g[12]), opw = size_t(g[13]);
  *nchw = g[14] != 0;
  s.c = c;
  s.m = m;
  s.kh = kh;
  s.kw = kw;
  s.groups = groups;
  if (s.h == 0 || s.w == 0 || s.sh == 0 || s.sw == 0 || s.dh == 0 || s.dw == 0)
    a.range_error("h, w, strides and dilations must be positive");
  const size_t ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
  if (!s.transposed) {
    if (ekh > s.h + s.pad_t + pad_b || ekw > s.w + s.pad_l + pad_r) a.range_error("kernel larger than the padded input");
    s.oh = (s.h + s.pad_t + pad_b - ekh) / s.sh + 1;
    s.ow = (s.w + s.pad_l + pad_r - ekw) / s.sw + 1;
  } else {
    const size_t fh = s.sh * (s.h - 1) + oph + ekh, fw = s.sw * (s.w - 1) + opw + ekw;
    if (fh <= s.pad_t + pad_b || fw <= s.pad_l + pad_r) a.range_error("pads leave an empty output");
    s.oh = fh - s.pad_t - pad_b;
    s.ow = fw - s.pad_l - pad_r;
  }
  return s;
}

double conv_ops(const ConvShape& s) { return 2.0 * double(s.pixels()) * double(s.kdim()) * double(s.m); }

// conv2d(x, packed, geometry: Int32Array(15), out, bias|null, residual|null, act, p0, p1[, id])
struct Conv2dOp {
  static constexpr OpNames kNames{"conv2d", "conv2d", "conv2dAsync", "conv2dAsync"};
  static constexpr size_t kArgs = 9, kResult = 3;
  struct Call {
    std::shared_ptr<PackedF32ConvWeights> w;
    const F32ConvVariant* v;
    F32ConvArgs args;
    bool nchw;
  };
  static Call parse(OpArgs& a) {
    Call c{a.handle(1, kPackedConvHandle)->weights(), nullptr, F32ConvArgs{}, false};
    const PackedF32ConvWeights& w = *c.w;
    const ConvShape s = conv_geometry(a, 2, w.c(), w.m(), w.kh(), w.kw(), w.groups(), &c.nchw);
    const size_t x_len = a.mul(a.mul(s.n, s.h * s.w), s.c), y_len = a.mul(a.mul(s.n, s.oh * s.ow), s.m);
    F32ConvArgs& f = c.args;
    f.s = s;
    f.x = a.in<float>(0, "x", x_len);
    f.y = a.out<float>(3, "out", y_len);
    f.bias = a.in<float>(4, "bias", s.m, true);
    f.residual = a.in<float>(5, "residual", y_len, true);
    f.ep.act = a.act(6, kConvActCount);
    f.ep.p0 = float(a.num(7));
    f.ep.p1 = float(a.num(8));
    c.v = &f32_conv_variant_for(s.mg());
    f.panels = c.w->panels(c.v->nr);  // any re-layout for this nr happens here, once
    return c;
  }
  static double cost(const Call& c) { return conv_ops(c.args.s); }
  static void run(const Call& c) {
    if (c.nchw)
      f32_conv_run_nchw(*c.v, c.args);
    else
      f32_conv_run(*c.v, c.args);
  }
};

// s8Conv2d(x: Uint8Array|Int8Array, packedS8, geometry, kh, kw, c, xZero, xScale, out, bias|null, act, outScale,
// outZero, actA, actB, residual|null[, id]) -> kernel name: groups 1, not transposed; out Int32Array (exact),
// Float32Array (dequantized) or Int8/Uint8Array (requantized with outScale/outZero); act any kConvAct* code with its
// two parameters; residual f32 shaped like the output (added before the activation). rowZero (Int32Array|null) and
// rowScale (Float32Array|null), both or neither: per-pixel activation parameters (n·h·w values, pixel order n, h, w)
// that replace xZero / xScale, for a pointwise stride-1 unpadded conv only.
struct S8Conv2dOp {
  static constexpr OpNames kNames{"s8Conv2d", "conv2d", "s8Conv2dAsync", "conv2dAsync"};
  static constexpr size_t kArgs = 18, kResult = 8;
  struct Call {
    std::shared_ptr<PackedS8Weights> w;
    const S8GemmVariant* v;
    ConvShape s;
    bool nchw;
    const uint8_t* x;
    uint8_t pad_byte;
    S8GemmArgs g;   // all but the B fields and A itself
    S8ConvPost post;  // the activation (any code) and the residual
    int32_t x_zero;   // A's zero point and scale, per tensor (stride 0)
    float x_scale;
    const int32_t* row_zero;  // or per pixel (stride 1), when not null
    const float* row_scale;
  };
  static Call parse(OpArgs& a) {
    Call c{a.handle(1, kPackedS8Handle)->weights(), &s8_gemm_table.select(), ConvShape{}, false, nullptr, 0,
           S8GemmArgs{}, S8ConvPost{}, 0, 0.0f, nullptr, nullptr};
    const size_t kh = a.size(3, "kh", 1 << 16), kw = a.size(4, "kw", 1 << 16), ch = a.size(5, "c", 1 << 24);
    if (kh == 0 || kw == 0 || ch == 0 || kh * kw * ch != c.w->k()) a.range_error("kh·kw·c must equal the packed weights' K");
    c.s = conv_geometry(a, 2, ch, c.w->n(), kh, kw, 1, &c.nchw);
    if (c.s.transposed) a.range_error("int8 transposed convolution is not supported");
    S8GemmArgs& g = c.g;
    c.x = a.s8_in(0, "x", a.mul(a.mul(c.s.n, c.s.h * c.s.w), c.s.c), &g.a_unsigned);
    const int zero = a.i32(6);
    if (g.a_unsigned ? (zero < 0 || zero > 255) : (zero < -128 || zero > 127))
      a.range_error("x zero point outside its type's range");
    c.pad_byte = uint8_t(zero & 0xff);
    const float x_scale = float(a.num(7));
    const size_t yn = a.mul(a.mul(c.s.n, c.s.oh * c.s.ow), c.s.m);
    const S8OutArg out = a.s8_out(8, yn);
    if (out.kind != kS8OutI32 && !(x_scale > 0)) a.range_error("x scale must be positive for float32 and int8 outputs");
    g.bias = a.in<float>(9, "bias", c.s.m, true);
    c.post.act = a.act(10, kConvActCount);
    c.post.p0 = float(a.num(13));
    c.post.p1 = float(a.num(14));
    c.post.residual = a.in<float>(15, "residual", yn, true);
    if (out.kind == kS8OutI32 && (c.post.act != kConvActNone || c.post.residual))
      a.range_error("an activation or residual needs a float32 or int8 output");
    a.requant(11, 12, out.kind, &g.out_scale, &g.out_zero);
    g.out = out.kind;
    g.c = out.data;
    g.act = kConvActNone;  // s8_conv_run hands post's activation to the GEMM epilogue (or to its residual pass)
    c.x_zero = zero;
    c.x_scale = x_scale;
    const bool no_rz = a.is_null(16), no_rs = a.is_null(17);
    if (no_rz != no_rs) a.type_error("rowZero and rowScale must be given together (or both null)");
    if (!no_rz) {
      if (!conv_is_pointwise(c.s)) a.range_error("per-pixel x parameters need a pointwise conv (1×1, stride 1, no padding)");
      const size_t P = a.mul(c.s.n, c.s.h * c.s.w);
      // Parsed on the JS thread: the values are checked here (the zero points against x's type, the scales > 0).
      const int32_t* rz = a.now<int32_t>(16, "rowZero", P);
      const float* rs = a.now<float>(17, "rowScale", P);
      const int lo = g.a_unsigned ? 0 : -128, hi = g.a_unsigned ? 255 : 127;
      for (size_t i = 0; i < P; i++) {
        if (rz[i] < lo || rz[i] > hi) a.range_error("rowZero[" + std::to_string(i) + "] outside x's type's range");
        if (out.kind != kS8OutI32 && !(rs[i] > 0 && rs[i] < INFINITY))
          a.range_error("rowScale[" + std::to_string(i) + "] must be positive and finite for float32 and int8 outputs");
      }
      c.row_zero = a.in<int32_t>(16, "rowZero", P);
      c.row_scale = a.in<float>(17, "rowScale", P);
    }
    S8GemmArgs probe{};
    s8_gemm_bind_weights(*c.v, *c.w, &probe);  // any re-layout for this variant happens here, once
    return c;
  }
  static double cost(const Call& c) { return conv_ops(c.s); }
  static const char* run(const Call& c) {
    S8GemmArgs g = c.g;
    g.a_zero = c.row_zero ? c.row_zero : &c.x_zero;
    g.a_scale = c.row_scale ? c.row_scale : &c.x_scale;
    g.a_zero_stride = g.a_scale_stride = c.row_zero ? 1 : 0;
    s8_gemm_bind_weights(*c.v, *c.w, &g);
    if (c.nchw)
      s8_conv_run_nchw(*c.v, c.s, c.x, c.pad_byte, g, c.post);
    else
      s8_conv_run(*c.v, c.s, c.x, c.pad_byte, g, c.post);
    return c.v->name;
  }
};

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedConvF32", Handle<PackedF32ConvWeights>::Define(env, kPackedConvHandle));
  export_ops<Conv2dOp, S8Conv2dOp>(env, exports);
}

}  // namespace binding
}  // namespace simdtensor
