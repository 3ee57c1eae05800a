// N-API glue for the f32 convolution family: packed conv weights, conv2d / convTranspose2d (sync and async), the
// cpuInfo rows. One parser (conv_call) serves the sync and the async form. No math here.
#include <memory>
#include <string>

#include "binding/async.h"
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "kernels/f32-conv/f32-conv.h"
#include "runtime/conv_driver.h"
#include "runtime/conv_weights.h"

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
  explicit PackedConvF32(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedConvF32>(info) {
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
    w_ = std::make_shared<PackedF32ConvWeights>(w, layout, c, m, kh, kw, groups, scale, f32_conv_select().nr);
    napi_type_tag_object(env, info.This(), &kPackedConvTag);
    bytes_ = int64_t(w_->bytes());
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes_);
  }
  ~PackedConvF32() override { Napi::MemoryManagement::AdjustExternalMemory(Env(), -bytes_); }
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

ConvCall conv_call(const Napi::CallbackInfo& info, const char* fn) {
  napi_env env = info.Env();
  ConvCall call;
  call.w = conv_packed_arg(info, 1, fn);
  const int32_t* g = typed_data<int32_t>(info, 2, fn, "geometry", 15);
  for (int i = 0; i < 15; i++)
    if (g[i] < 0)
      throw Napi::RangeError::New(env, std::string(fn) + ": bad geometry value at " + std::to_string(i));
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
  call.nchw = g[14] != 0;
  const PackedF32ConvWeights& w = *call.w;
  s.c = w.c();
  s.m = w.m();
  s.kh = w.kh();
  s.kw = w.kw();
  s.groups = w.groups();
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
  const F32ConvVariant& v = f32_conv_select();
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
  const F32ConvVariant& v = f32_conv_select();
  const float* panels = c.w->panels(v.nr);  // any re-layout for this nr happens here, once
  const double cost = 2.0 * double(c.args.s.pixels()) * double(c.args.s.kdim()) * double(c.args.s.m);
  return op.submit([&v, c, panels] { conv_run(v, c, panels); }, info[3], cost);
}

size_t conv_op_kernels(OpKernel* out, size_t cap) {
  const char* name = f32_conv_select().name;
  const OpKernel rows[] = {{"conv2d.f32", name}, {"convTranspose2d.f32", name}};
  const size_t n = sizeof(rows) / sizeof(rows[0]);
  for (size_t i = 0; i < n && i < cap; i++) out[i] = rows[i];
  return n;
}

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  register_op_reporter(&conv_op_kernels);
  exports.Set("PackedConvF32", PackedConvF32::Define(env));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dAsync", Napi::Function::New(env, Conv2dAsync, "conv2dAsync"));
}

}  // namespace binding
}  // namespace simdtensor
