// N-API glue for the convolution gradient helpers (native/runtime/conv/conv_backward.h): im2col rows, depthwise
// filter and input gradients, NHWC. No math here: arguments are checked, then the runtime loop runs.
#include <string>

#include "binding/async.h"
#include "binding/util.h"
#include "runtime/conv/conv_backward.h"

namespace simdtensor {
namespace binding {

namespace {

// geometry: Int32Array(15) = n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, mult.
ConvBackGeom parse_geom(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  napi_env env = info.Env();
  const int32_t* q = typed_data<int32_t>(info, i, fn, "geometry", 15);
  static const char* const names[15] = {"n", "ih", "iw", "c", "oh", "ow", "kh", "kw", "sh", "sw", "dh", "dw", "pt", "pl", "mult"};
  // kh, kw, sh, sw, dh, dw, mult must be >= 1; the rest >= 0.
  static const int lo[15] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1};
  size_t v[15];
  for (int k = 0; k < 15; k++) {
    if (q[k] < lo[k])
      throw Napi::RangeError::New(env, std::string(fn) + ": geometry " + names[k] + " must be >= " + std::to_string(lo[k]) +
                                           ", got " + std::to_string(q[k]));
    v[k] = size_t(q[k]);
  }
  ConvBackGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  // Coordinates are range-checked in the runtime loops, so any oh / ow / pads only read inside x.
  return g;
}

size_t prod(napi_env env, const char* fn, std::initializer_list<size_t> xs) {
  size_t r = 1;
  for (size_t x : xs) r = mul_sizes(env, fn, r, x);
  return r;
}

void check_disjoint(napi_env env, const char* fn, const float* a, size_t na, const float* out, size_t nout) {
  if (na && nout && a < out + nout && out < a + na)
    throw Napi::RangeError::New(env, std::string(fn) + ": out must not overlap the inputs");
}

// convIm2col(x, geometry, row0, rows, cols)
Napi::Value ConvIm2col(const Napi::CallbackInfo& info) {
  const char* fn = "convIm2col";
  napi_env env = info.Env();
  const ConvBackGeom g = parse_geom(info, 1, fn);
  const size_t row0 = size_arg(info, 2, fn, "row0"), rows = size_arg(info, 3, fn, "rows");
  const size_t total = prod(env, fn, {g.n, g.oh, g.ow});
  if (row0 > total || rows > total - row0) throw Napi::RangeError::New(env, std::string(fn) + ": rows past the output");
  const size_t nx = prod(env, fn, {g.n, g.ih, g.iw, g.c});
  const size_t ncols = prod(env, fn, {rows, g.kh, g.kw, g.c});
  const float* x = typed_data<float>(info, 0, fn, "x", nx);
  float* cols = typed_data<float>(info, 4, fn, "cols", ncols);
  check_sync_write(env, fn, cols, ncols * sizeof(float));
  check_disjoint(env, fn, x, nx, cols, ncols);
  f32_im2col_nhwc(g, x, row0, rows, cols);
  return Napi::Value();
}

// The two depthwise backward ops, (in, dy, geometry, out): the filter gradient reads x and writes dw, the input
// gradient reads w and writes dx; out must not overlap either input.
template <void (*Run)(const ConvBackGeom&, const float*, const float*, float*)>
Napi::Value dwconv_backward(const Napi::CallbackInfo& info, const char* fn, bool filter) {
  napi_env env = info.Env();
  const ConvBackGeom g = parse_geom(info, 2, fn);
  const size_t cm = mul_sizes(env, fn, g.c, g.mult);
  const size_t nx = prod(env, fn, {g.n, g.ih, g.iw, g.c}), ny = prod(env, fn, {g.n, g.oh, g.ow, cm});
  const size_t nw = prod(env, fn, {g.kh, g.kw, cm});
  const size_t nin = filter ? nx : nw, nout = filter ? nw : nx;
  const float* in = typed_data<float>(info, 0, fn, filter ? "x" : "w", nin);
  const float* dy = typed_data<float>(info, 1, fn, "dy", ny);
  float* out = typed_data<float>(info, 3, fn, filter ? "dw" : "dx", nout);
  check_sync_write(env, fn, out, nout * sizeof(float));
  check_disjoint(env, fn, in, nin, out, nout);
  check_disjoint(env, fn, dy, ny, out, nout);
  Run(g, in, dy, out);
  return Napi::Value();
}

// dwconvBackwardFilter(x, dy, geometry, dw)
Napi::Value DwconvBackwardFilter(const Napi::CallbackInfo& info) {
  return dwconv_backward<f32_dwconv_backward_filter_nhwc>(info, "dwconvBackwardFilter", true);
}

// dwconvBackwardInput(w, dy, geometry, dx)
Napi::Value DwconvBackwardInput(const Napi::CallbackInfo& info) {
  return dwconv_backward<f32_dwconv_backward_input_nhwc>(info, "dwconvBackwardInput", false);
}

}  // namespace

void init_conv_grad(Napi::Env env, Napi::Object exports) {
  export_fn<ConvIm2col>(env, exports, "convIm2col");
  export_fn<DwconvBackwardFilter>(env, exports, "dwconvBackwardFilter");
  export_fn<DwconvBackwardInput>(env, exports, "dwconvBackwardInput");
}

}  // namespace binding
}  // namespace simdtensor
