// N-API glue for the f32 convolution family: packed conv weights, conv2d / convTranspose2d (sync and async), the
// cpuInfo rows. One parser (conv_call) serves the sync and the async form. No math here.
#include <memory>
#include <string>

#include "binding/async.h"
#include "binding/s8_args.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "kernels/f32-conv/f32-conv.h"
#include "runtime/conv/conv_driver.h"
#include "runtime/conv/conv_weights.h"
#include "runtime/int8/conv.h"
#include "runtime/int8/packed_weights.h"
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {
namespace binding {

namespace {

// Tags PackedConvF32 objects so an unrelated object can never be unwrapped as one.
const napi_type_tag kPackedConvTag = {0x636f6e76'66333270ull, 0x61636b65'64776569ull};

class PackedConvF32 : public Napi::ObjectWrap<PackedConvF32> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PackedConvF32", {InstanceAccessor<&PackedConvF32::Bytes>("bytes")});
  }
  // new PackedConvF32(w: Float32Array, layout, c, m, kh, kw, groups, scale: Float32Array|null)
  explicit PackedConvF32(const Napi::CallbackInfo& info) try : Napi::ObjectWrap<PackedConvF32>(info) {
    const char* fn = "packConvWeights";
    napi_env env = info.Env();
    const int layout = int_arg(info, 1);
    if (layout < kConvOIHW || layout > kConvHWOI) throw Napi::RangeError::New(env, "packConvWeights: bad layout code");
    const size_t c = size_arg(info, 2, fn, "c", 1 << 24), m = size_arg(info, 3, fn, "m", 1 << 24);
    const size_t kh = size_arg(info, 4, fn, "kh", 1 << 16), kw = size_arg(info, 5, fn, "kw", 1 << 16);
    const size_t groups = size_arg(info, 6, fn, "groups", 1 << 24);
    if (c == 0 || m == 0 || kh == 0 || kw == 0 || groups == 0 || c % groups || m % groups)
      throw Napi::RangeError::New(env, "packConvWeights: c, m, kh, kw, groups must be positive and groups must divide c and m");
    const size_t count = mul_sizes(env, fn, mul_sizes(env, fn, kh * kw, c / groups), m);
    const float* w = typed_data<float>(info, 0, fn, "w", count);
    const float* scale = typed_data<float>(info, 7, fn, "scale", m, true);
    w_ = std::make_shared<PackedF32ConvWeights>(w, layout, c, m, kh, kw, groups, scale, f32_conv_variant_for(m / groups).nr);
    napi_type_tag_object(env, info.This(), &kPackedConvTag);
    bytes_ = int64_t(w_->bytes());
    adjust_external_memory(env, bytes_);
  } catch (...) {
    rethrow_guarded(info.Env(), "packConvWeights");
  }
  ~PackedConvF32() override { adjust_external_memory(Env(), -bytes_); }
  std::shared_ptr<PackedF32ConvWeights> weights() const { return w_; }

 private:
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(w_->bytes())); }
  std::shared_ptr<PackedF32ConvWeights> w_;
  int64_t bytes_ = 0;
};

std::shared_ptr<PackedF32ConvWeights> conv_packed_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  napi_env env = info.Env();
  napi_value v = info[i];
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  bool tagged = false;
  if (vt == napi_object) napi_check_object_type_tag(env, v, &kPackedConvTag, &tagged);
  if (!tagged)
    throw Napi::TypeError::New(env, std::string(fn) + ": weights must be a PackedConvF32 handle from packConvWeights()");
  return PackedConvF32::Unwrap(Napi::Object(env, v))->weights();
}

// conv2d(x, packed, geom: Float64Array, y, bias|null, residual|null, act, p0, p1)
//   geom (Int32Array) = [n, h, w, sh, sw, dh, dw, padT, padL, padB, padR, transposed, outPadH, outPadW, nchw]
struct ConvCall {
  std::shared_ptr<PackedF32ConvWeights> w;
  F32ConvArgs args;
  bool nchw;
  size_t x_len, y_len;
};

// geometry (Int32Array) = [n, h, w, sH, sW, dH, dW, padT, padL, padB, padR, transposed, outPadH, outPadW, nchw] at
// info[i], for weights of c input and m output channels, kh×kw, `groups`: the shape with oh/ow computed here.
ConvShape conv_geometry(const Napi::CallbackInfo& info, size_t i, const char* fn, size_t c, size_t m, size_t kh,
                        size_t kw, size_t groups, bool* nchw) {
  napi_env env = info.Env();
  const int32_t* g = typed_data<int32_t>(info, i, fn, "geometry", 15);
  for (int j = 0; j < 15; j++)
    if (g[j] < 0) throw Napi::RangeError::New(env, std::string(fn) + ": bad geometry value at " + std::to_string(j));
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
    throw Napi::RangeError::New(env, std::string(fn) + ": h, w, strides and dilations must be positive");
  const size_t ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
  if (!s.transposed) {
    if (ekh > s.h + s.pad_t + pad_b || ekw > s.w + s.pad_l + pad_r)
      throw Napi::RangeError::New(env, std::string(fn) + ": kernel larger than the padded input");
    s.oh = (s.h + s.pad_t + pad_b - ekh) / s.sh + 1;
    s.ow = (s.w + s.pad_l + pad_r - ekw) / s.sw + 1;
  } else {
    const size_t fh = s.sh * (s.h - 1) + oph + ekh, fw = s.sw * (s.w - 1) + opw + ekw;
    if (fh <= s.pad_t + pad_b || fw <= s.pad_l + pad_r)
      throw Napi::RangeError::New(env, std::string(fn) + ": pads leave an empty output");
    s.oh = fh - s.pad_t - pad_b;
    s.ow = fw - s.pad_l - pad_r;
  }
  return s;
}

ConvCall conv_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  ConvCall call;
  call.w = conv_packed_arg(info, 1, fn);
  const PackedF32ConvWeights& w = *call.w;
  const ConvShape s = conv_geometry(info, 2, fn, w.c(), w.m(), w.kh(), w.kw(), w.groups(), &call.nchw);
  call.x_len = mul_sizes(env, fn, mul_sizes(env, fn, s.n, s.h * s.w), s.c);
  call.y_len = mul_sizes(env, fn, mul_sizes(env, fn, s.n, s.oh * s.ow), s.m);
  F32ConvArgs& a = call.args;
  a.s = s;
  a.x = typed_data<float>(info, 0, fn, "x", call.x_len);
  a.y = typed_data<float>(info, 3, fn, "out", call.y_len);
  a.bias = typed_data<float>(info, 4, fn, "bias", s.m, true);
  a.residual = typed_data<float>(info, 5, fn, "residual", call.y_len, true);
  a.ep.act = int_arg(info, 6);
  if (a.ep.act < 0 || a.ep.act >= kConvActCount) throw Napi::RangeError::New(env, std::string(fn) + ": bad activation code");
  a.ep.p0 = float(num_arg(info, 7));
  a.ep.p1 = float(num_arg(info, 8));
  a.panels = nullptr;
  return call;
}

void conv_run(const F32ConvVariant& v, const ConvCall& c, const float* panels) {
  F32ConvArgs a = c.args;
  a.panels = panels;
  if (c.nchw)
    f32_conv_run_nchw(v, a);
  else
    f32_conv_run(v, a);
}

Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  const char* fn = "conv2d";
  ConvCall c = conv_call(info, fn);
  check_sync_write(info.Env(), fn, c.args.y, c.y_len * sizeof(float));  // an async op in flight may own it
  const F32ConvVariant& v = f32_conv_variant_for(c.args.s.mg());
  conv_run(v, c, c.w->panels(v.nr));
  return Napi::Value();
}

Napi::Value Conv2dAsync(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dAsync";
  AsyncOp op(info, fn, 9);
  ConvCall c = conv_call(info, fn);
  op.pin(info[0]);
  op.reads(c.args.x, c.x_len * sizeof(float), "x");
  op.pin(info[3]);
  op.writes(c.args.y, c.y_len * sizeof(float), "out");
  if (c.args.bias) {
    op.pin(info[4]);
    op.reads(c.args.bias, c.args.s.m * sizeof(float), "bias");
  }
  if (c.args.residual) {
    op.pin(info[5]);
    op.reads(c.args.residual, c.y_len * sizeof(float), "residual");
  }
  op.pin(info[1]);
  op.keep(c.w);
  const F32ConvVariant& v = f32_conv_variant_for(c.args.s.mg());
  const float* panels = c.w->panels(v.nr);  // any re-layout for this nr happens here, once
  const double cost = 2.0 * double(c.args.s.pixels()) * double(c.args.s.kdim()) * double(c.args.s.m);
  return op.submit([&v, c, panels] { conv_run(v, c, panels); }, info[3], cost);
}

// s8Conv2d(x: Uint8Array|Int8Array, packedS8, geometry, kh, kw, c, xZero, xScale, out, bias|null, act, outScale,
// outZero, actA, actB, residual|null): groups 1, not transposed; out Int32Array (exact), Float32Array (dequantized) or
// Int8/Uint8Array (requantized with outScale/outZero); act any kConvAct* code with its two parameters; residual f32
// shaped like the output (added before the activation).
struct S8ConvCall {
  std::shared_ptr<PackedS8Weights> w;
  ConvShape s;
  bool nchw;
  const uint8_t* x;
  size_t x_len;
  uint8_t pad_byte;
  int32_t x_zero;
  float x_scale;
  S8OutArg out;
  const float* bias;
  S8ConvPost post;  // the activation (any code) and the residual
  size_t y_len;     // output elements
  float out_scale;
  int32_t out_zero;
};

S8ConvCall s8_conv_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  S8ConvCall c{};
  c.w = s8_packed_arg(info, 1, fn);
  const size_t kh = size_arg(info, 3, fn, "kh", 1 << 16), kw = size_arg(info, 4, fn, "kw", 1 << 16);
  const size_t ch = size_arg(info, 5, fn, "c", 1 << 24);
  if (kh == 0 || kw == 0 || ch == 0 || kh * kw * ch != c.w->k())
    throw Napi::RangeError::New(env, std::string(fn) + ": kh·kw·c must equal the packed weights' K");
  c.s = conv_geometry(info, 2, fn, ch, c.w->n(), kh, kw, 1, &c.nchw);
  if (c.s.transposed) throw Napi::RangeError::New(env, std::string(fn) + ": int8 transposed convolution is not supported");
  bool x_unsigned = false;
  c.x_len = mul_sizes(env, fn, mul_sizes(env, fn, c.s.n, c.s.h * c.s.w), c.s.c);
  c.x = s8_bytes_arg(info, 0, fn, "x", c.x_len, &x_unsigned);
  const int zero = int_arg(info, 6);
  if (x_unsigned ? (zero < 0 || zero > 255) : (zero < -128 || zero > 127))
    throw Napi::RangeError::New(env, std::string(fn) + ": x zero point outside its type's range");
  c.x_zero = zero;
  c.pad_byte = uint8_t(zero & 0xff);
  c.x_scale = float(num_arg(info, 7));
  const size_t yn = mul_sizes(env, fn, mul_sizes(env, fn, c.s.n, c.s.oh * c.s.ow), c.s.m);
  c.out = s8_out_arg(info, 8, fn, yn);
  c.y_len = yn;
  if (c.out.kind != kS8OutI32 && !(c.x_scale > 0))
    throw Napi::RangeError::New(env, std::string(fn) + ": x scale must be positive for float32 and int8 outputs");
  c.bias = typed_data<float>(info, 9, fn, "bias", c.s.m, true);
  const int act = int_arg(info, 10);
  if (act < 0 || act >= kConvActCount) throw Napi::RangeError::New(env, std::string(fn) + ": bad activation code");
  c.post.act = act;
  c.post.p0 = float(num_arg(info, 13));
  c.post.p1 = float(num_arg(info, 14));
  c.post.residual = typed_data<float>(info, 15, fn, "residual", yn, true);
  if (c.out.kind == kS8OutI32 && (act != kConvActNone || c.post.residual))
    throw Napi::RangeError::New(env, std::string(fn) + ": an activation or residual needs a float32 or int8 output");
  const double out_scale = num_arg(info, 11);
  c.out_zero = int_arg(info, 12);
  s8_check_requant(env, fn, c.out.kind, out_scale, c.out_zero);
  c.out_scale = float(out_scale);
  (void)x_unsigned;
  return c;
}

void s8_conv_exec(const S8GemmVariant& v, const S8ConvCall& c, bool x_unsigned) {
  S8GemmArgs g{};
  g.a_unsigned = x_unsigned;
  g.a_zero = &c.x_zero;
  g.a_zero_stride = 0;
  g.a_scale = &c.x_scale;
  g.a_scale_stride = 0;
  s8_gemm_bind_weights(v, *c.w, &g);
  g.out = c.out.kind;
  g.c = c.out.data;
  g.bias = c.bias;
  g.act = c.post.act <= kConvActGelu ? c.post.act : kConvActNone;  // the GEMM fuses none/relu/gelu itself
  g.out_scale = c.out_scale;
  g.out_zero = c.out_zero;
  if (c.nchw)
    s8_conv_run_nchw(v, c.s, c.x, c.pad_byte, g, c.post);
  else
    s8_conv_run(v, c.s, c.x, c.pad_byte, g, c.post);
}

bool is_uint8_array(const Napi::CallbackInfo& info, size_t i) {
  napi_typedarray_type t = napi_int8_array;
  size_t len;
  void* data;
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(info.Env(), info[i], &t, &len, &data, &ab, &off);
  return t == napi_uint8_array;
}

Napi::Value S8Conv2d(const Napi::CallbackInfo& info) {
  const char* fn = "conv2d";
  const S8ConvCall c = s8_conv_call(info, fn);
  check_sync_write(info.Env(), fn, c.out.data, c.out.bytes);
  const S8GemmVariant& v = s8_gemm_table.select();
  s8_conv_exec(v, c, is_uint8_array(info, 0));
  return Napi::String::New(info.Env(), v.name);
}

Napi::Value S8Conv2dAsync(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dAsync";
  AsyncOp op(info, fn, 16);
  const S8ConvCall c = s8_conv_call(info, fn);
  const bool xu = is_uint8_array(info, 0);
  op.pin(info[0]);
  op.reads(c.x, c.x_len, "x");
  op.pin(info[8]);
  op.writes(c.out.data, c.out.bytes, "out");
  if (c.bias) {
    op.pin(info[9]);
    op.reads(c.bias, c.s.m * sizeof(float), "bias");
  }
  if (c.post.residual) {
    op.pin(info[15]);
    op.reads(c.post.residual, c.y_len * sizeof(float), "residual");
  }
  op.pin(info[1]);
  op.keep(c.w);
  const S8GemmVariant& v = s8_gemm_table.select();
  S8GemmArgs probe{};
  s8_gemm_bind_weights(v, *c.w, &probe);  // any re-layout for this variant happens here, once
  const double cost = 2.0 * double(c.s.pixels()) * double(c.s.kdim()) * double(c.s.m);
  return op.submit([&v, c, xu] { s8_conv_exec(v, c, xu); }, info[8], cost);
}


}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedConvF32", PackedConvF32::Define(env));
  export_fn<Conv2d>(env, exports, "conv2d");
  export_fn<Conv2dAsync>(env, exports, "conv2dAsync");
  export_fn<S8Conv2d>(env, exports, "s8Conv2d");
  export_fn<S8Conv2dAsync>(env, exports, "s8Conv2dAsync");
}

}  // namespace binding
}  // namespace simdtensor
