// The C ABI of include/simdtensor.h: argument checks, then the same runtime drivers the N-API binding calls.
// No math here. Every entry point catches C++ exceptions (allocation failures) and reports them as a status.
#include "../../include/simdtensor.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <new>
#include <string>

#include "cpu/dispatch.h"
#include "cpu/features.h"
#include "kernels/quantize/quantize.h"
#include "kernels/s8-gemm/s8-gemm.h"
#include "runtime/core/aligned.h"
#include "runtime/conv/conv_driver.h"
#include "runtime/conv/conv_weights.h"
#include "runtime/f32/gemm_driver.h"
#include "runtime/half/gemm_driver.h"
#include "runtime/f32/pack.h"
#include "runtime/f32/packed_weights.h"
#include "runtime/core/parallel.h"
#include "runtime/int8/linear.h"
#include "runtime/int8/packed_weights.h"
#include "runtime/int8/quantize.h"

using namespace simdtensor;

struct st_packed_f32 {
  PackedF32Weights w;
};
struct st_packed_conv {
  PackedF32ConvWeights w;
};
struct st_packed_s8 {
  PackedS8Weights w;
};

namespace {

thread_local std::string t_error;

st_status fail(st_status s, const char* fn, const std::string& msg) {
  t_error = std::string(fn) + ": " + msg;
  return s;
}

// Runs f, turning exceptions into statuses; clears the error message first.
template <typename F>
st_status guarded(const char* fn, F&& f) {
  t_error.clear();
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(ST_OUT_OF_MEMORY, fn, "out of memory");
  } catch (const std::exception& e) {
    return fail(ST_INTERNAL, fn, e.what());
  } catch (...) {
    return fail(ST_INTERNAL, fn, "unknown error");
  }
}

std::string num(size_t v) { return std::to_string(v); }

// Checks a matrix argument: non-null when it has elements, and a row stride that covers a row.
bool matrix_ok(const char* fn, const char* name, const void* p, size_t rows, size_t cols, size_t ld, st_status* s) {
  if (rows && cols && !p) {
    *s = fail(ST_INVALID_ARGUMENT, fn, std::string(name) + " is NULL");
    return false;
  }
  if (rows > 1 && ld < cols) {
    *s = fail(ST_INVALID_ARGUMENT, fn, std::string(name) + "'s row stride (" + num(ld) + ") is below its row length (" + num(cols) + ")");
    return false;
  }
  return true;
}

bool act_ok(const char* fn, st_activation act, st_status* s) {
  if (act != ST_ACT_NONE && act != ST_ACT_RELU && act != ST_ACT_GELU) {
    *s = fail(ST_INVALID_ARGUMENT, fn, "act (" + std::to_string(int(act)) + ") must be ST_ACT_NONE, ST_ACT_RELU or ST_ACT_GELU");
    return false;
  }
  return true;
}

bool sizes_ok(const char* fn, size_t k, size_t n, st_status* s) {
  if (k == 0 || n == 0) {
    *s = fail(ST_INVALID_ARGUMENT, fn, "k (" + num(k) + ") and n (" + num(n) + ") must be positive");
    return false;
  }
  return true;
}

thread_local ScratchBuffer<float> t_bpack;

}  // namespace

extern "C" {

unsigned st_abi_version(void) { return SIMDTENSOR_ABI_VERSION; }

const char* st_version(void) {
#define ST_STR2(x) #x
#define ST_STR(x) ST_STR2(x)
  return ST_STR(SIMDTENSOR_VERSION_MAJOR) "." ST_STR(SIMDTENSOR_VERSION_MINOR) "." ST_STR(SIMDTENSOR_VERSION_PATCH);
#undef ST_STR
#undef ST_STR2
}

const char* st_best_isa(void) { return isa_name(max_isa()); }

const char* st_last_error(void) { return t_error.c_str(); }

int st_set_num_threads(int n) {
  if (n >= 1) set_num_threads(n);
  return num_threads();
}

int st_get_num_threads(void) { return num_threads(); }

st_status st_sgemm(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb, int trans_b,
                   const float* bias, st_activation act, float* c, size_t ldc) {
  const char* fn = "st_sgemm";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (!sizes_ok(fn, k, n, &s) || !act_ok(fn, act, &s) || !matrix_ok(fn, "a", a, m, k, lda, &s) ||
        !matrix_ok(fn, "b", b, trans_b ? n : k, trans_b ? k : n, ldb, &s) || !matrix_ok(fn, "c", c, m, n, ldc, &s))
      return s;
    if (m == 0) return ST_OK;
    const F32GemmVariant& v = f32_gemm_table.select();
    float* bp = t_bpack.get(packed_b_f32_floats(k, n, v.nr));
    pack_b_f32(b, ldb, trans_b != 0, k, n, v.nr, bp);
    f32_gemm_run(v, F32GemmArgs{m, n, k, a, lda, bp, c, ldc, bias, int(act)});
    return ST_OK;
  });
}

st_status st_pack_f32(const float* b, size_t ldb, int trans_b, size_t k, size_t n, st_packed_f32** out) {
  const char* fn = "st_pack_f32";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (!out) return fail(ST_INVALID_ARGUMENT, fn, "out is NULL");
    *out = nullptr;
    if (!sizes_ok(fn, k, n, &s) || !matrix_ok(fn, "b", b, trans_b ? n : k, trans_b ? k : n, ldb, &s)) return s;
    *out = new st_packed_f32{PackedF32Weights(b, ldb, trans_b != 0, k, n, f32_gemm_table.select().nr)};
    return ST_OK;
  });
}

st_status st_sgemm_packed(size_t m, const float* a, size_t lda, const st_packed_f32* w, const float* bias,
                          st_activation act, float* c, size_t ldc) {
  const char* fn = "st_sgemm_packed";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (!w) return fail(ST_INVALID_ARGUMENT, fn, "w is NULL");
    auto& pw = const_cast<PackedF32Weights&>(w->w);  // panels() may lay out another width on first use (locked)
    const size_t k = pw.k(), n = pw.n();
    if (!act_ok(fn, act, &s) || !matrix_ok(fn, "a", a, m, k, lda, &s) || !matrix_ok(fn, "c", c, m, n, ldc, &s)) return s;
    if (m == 0) return ST_OK;
    const F32GemmVariant& v = f32_gemm_table.select();
    f32_gemm_run(v, F32GemmArgs{m, n, k, a, lda, pw.panels(v.nr), c, ldc, bias, int(act)});
    return ST_OK;
  });
}

void st_packed_f32_free(st_packed_f32* w) { delete w; }

st_status st_pack_conv_f32(const float* w, st_conv_weight_layout layout, size_t c, size_t m, size_t kh, size_t kw,
                           size_t groups, st_packed_conv** out) {
  const char* fn = "st_pack_conv_f32";
  return guarded(fn, [&] {
    if (!out) return fail(ST_INVALID_ARGUMENT, fn, "out is NULL");
    *out = nullptr;
    if (!w) return fail(ST_INVALID_ARGUMENT, fn, "w is NULL");
    if (layout != ST_CONV_OIHW && layout != ST_CONV_HWIO)
      return fail(ST_INVALID_ARGUMENT, fn, "layout must be ST_CONV_OIHW or ST_CONV_HWIO, got " + std::to_string(int(layout)));
    if (c == 0 || m == 0 || kh == 0 || kw == 0 || groups == 0 || c % groups || m % groups)
      return fail(ST_INVALID_ARGUMENT, fn, "c, m, kh, kw and groups must be positive and groups must divide c (" +
                                               std::to_string(c) + ") and m (" + std::to_string(m) + ")");
    if (c > (size_t(1) << 24) || m > (size_t(1) << 24) || kh > (size_t(1) << 16) || kw > (size_t(1) << 16))
      return fail(ST_OUT_OF_RANGE, fn, "c, m (at most 2^24) or kh, kw (at most 2^16) too large");
    *out = new st_packed_conv{PackedF32ConvWeights(w, int(layout), c, m, kh, kw, groups, nullptr,
                                                   f32_conv_variant_for(m / groups).nr)};
    return ST_OK;
  });
}

st_status st_conv2d_f32(const st_packed_conv* w, int nchw, size_t n, size_t h, size_t wd, const float* x,
                        size_t stride_h, size_t stride_w, size_t dil_h, size_t dil_w, size_t pad_t, size_t pad_l,
                        size_t pad_b, size_t pad_r, const float* bias, st_activation act, float* y, size_t y_len,
                        size_t* oh_out, size_t* ow_out) {
  const char* fn = "st_conv2d_f32";
  return guarded(fn, [&] {
    st_status st = ST_OK;
    if (!w) return fail(ST_INVALID_ARGUMENT, fn, "w is NULL");
    if (!act_ok(fn, act, &st)) return st;
    auto& pw = const_cast<PackedF32ConvWeights&>(w->w);  // panels() may lay out another width on first use (locked)
    if (h == 0 || wd == 0 || stride_h == 0 || stride_w == 0 || dil_h == 0 || dil_w == 0)
      return fail(ST_INVALID_ARGUMENT, fn, "h, w, strides and dilations must be positive");
    const size_t lim = size_t(1) << 24;
    if (n > lim || h > lim || wd > lim || stride_h > lim || stride_w > lim || dil_h > lim || dil_w > lim ||
        pad_t > lim || pad_l > lim || pad_b > lim || pad_r > lim)
      return fail(ST_OUT_OF_RANGE, fn, "a size, stride, dilation or pad above 2^24");
    ConvShape s{};
    s.n = n, s.h = h, s.w = wd, s.c = pw.c(), s.m = pw.m(), s.kh = pw.kh(), s.kw = pw.kw();
    s.sh = stride_h, s.sw = stride_w, s.dh = dil_h, s.dw = dil_w, s.pad_t = pad_t, s.pad_l = pad_l;
    s.groups = pw.groups(), s.transposed = false;
    const size_t ekh = (s.kh - 1) * dil_h + 1, ekw = (s.kw - 1) * dil_w + 1;
    if (ekh > h + pad_t + pad_b || ekw > wd + pad_l + pad_r)
      return fail(ST_INVALID_ARGUMENT, fn, "the kernel (" + std::to_string(ekh) + "x" + std::to_string(ekw) +
                                               " with dilation) is larger than the padded input");
    s.oh = (h + pad_t + pad_b - ekh) / stride_h + 1;
    s.ow = (wd + pad_l + pad_r - ekw) / stride_w + 1;
    if (oh_out) *oh_out = s.oh;
    if (ow_out) *ow_out = s.ow;
    const double need = double(n) * double(s.m) * double(s.oh) * double(s.ow);
    if (need > double(y_len))
      return fail(ST_INVALID_ARGUMENT, fn, "y_len (" + std::to_string(y_len) + ") is below n*m*oh*ow (" +
                                               std::to_string(size_t(need)) + ")");
    if (!x || !y) return fail(ST_INVALID_ARGUMENT, fn, !x ? "x is NULL" : "y is NULL");
    if (n == 0) return ST_OK;
    const F32ConvVariant& v = f32_conv_variant_for(s.mg());
    F32ConvArgs a{};
    a.s = s;
    a.x = x;
    a.panels = pw.panels(v.nr);
    a.y = y;
    a.bias = bias;
    a.residual = nullptr;
    a.ep.act = int(act);
    if (nchw) f32_conv_run_nchw(v, a);
    else f32_conv_run(v, a);
    return ST_OK;
  });
}

void st_packed_conv_free(st_packed_conv* w) { delete w; }

st_status st_quantize_s8_rows(size_t rows, size_t cols, const float* x, size_t ldx, int8_t* q, float* scales) {
  const char* fn = "st_quantize_s8_rows";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (!matrix_ok(fn, "x", x, rows, cols, ldx, &s) || !matrix_ok(fn, "q", q, rows, cols, cols, &s)) return s;
    if (rows && !scales) return fail(ST_INVALID_ARGUMENT, fn, "scales is NULL");
    const QuantizeVariant& qv = quantize_table.select();
    int32_t qmin = 0, qmax = 0;
    quant_range(false, true, &qmin, &qmax);
    for (size_t r = 0; r < rows; r++) {
      const QuantTensorShape row{1, 1, cols};
      float mn = 0, mx = 0;
      if (minmax_tensor(qv, row, x + r * ldx, &mn, &mx) || !std::isfinite(mn) || !std::isfinite(mx))
        return fail(ST_OUT_OF_RANGE, fn, "x row " + num(r) + " holds NaN or Inf");
      const QuantParams p = quant_choose_params(mn, mx, false, true);
      scales[r] = p.scale;
      const int32_t zero = p.zero;
      quantize_tensor(qv, row, x + r * ldx, &scales[r], &zero, qmin, qmax, reinterpret_cast<uint8_t*>(q + r * cols));
    }
    return ST_OK;
  });
}

st_status st_pack_s8(const int8_t* w, size_t ldw, size_t n, size_t k, const float* scales, st_packed_s8** out) {
  const char* fn = "st_pack_s8";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (!out) return fail(ST_INVALID_ARGUMENT, fn, "out is NULL");
    *out = nullptr;
    if (!sizes_ok(fn, k, n, &s) || !matrix_ok(fn, "w", w, n, k, ldw, &s)) return s;
    if (!scales) return fail(ST_INVALID_ARGUMENT, fn, "scales is NULL");
    for (size_t j = 0; j < n; j++)
      if (!(scales[j] > 0) || !std::isfinite(scales[j]))
        return fail(ST_OUT_OF_RANGE, fn, "scales[" + num(j) + "] (" + std::to_string(scales[j]) + ") must be positive and finite");
    const S8GemmVariant& v = s8_gemm_table.select();
    // A Linear weight [n, k] is B transposed: trans_b with ldb = ldw.
    *out = new st_packed_s8{PackedS8Weights(w, false, ldw, true, k, n, nullptr, 0, scales, n, v.nr, v.kstep, v.kgroup)};
    return ST_OK;
  });
}

st_status st_s8_linear(size_t m, const float* x, size_t ldx, st_packed_s8* w, const float* bias, st_activation act,
                       float* y, size_t ldy) {
  const char* fn = "st_s8_linear";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (!w) return fail(ST_INVALID_ARGUMENT, fn, "w is NULL");
    const size_t k = w->w.k(), n = w->w.n();
    if (!act_ok(fn, act, &s) || !matrix_ok(fn, "x", x, m, k, ldx, &s) || !matrix_ok(fn, "y", y, m, n, ldy, &s)) return s;
    if (m == 0) return ST_OK;
    s8_linear_dynamic_run(s8_gemm_table.select(), quantize_table.select(), S8LinearDynamicArgs{m, x, ldx, &w->w, bias, int(act), y, ldy});
    return ST_OK;
  });
}

void st_packed_s8_free(st_packed_s8* w) { delete w; }

st_status st_hgemm(size_t m, size_t n, size_t k, st_half_type type, const uint16_t* a, size_t lda, const uint16_t* b,
                   size_t ldb, int trans_b, const float* bias, st_activation act, float* c, size_t ldc) {
  const char* fn = "st_hgemm";
  return guarded(fn, [&] {
    st_status s = ST_OK;
    if (type != ST_FLOAT16 && type != ST_BFLOAT16)
      return fail(ST_INVALID_ARGUMENT, fn, "type (" + std::to_string(int(type)) + ") must be ST_FLOAT16 or ST_BFLOAT16");
    if (!sizes_ok(fn, k, n, &s) || !act_ok(fn, act, &s) || !matrix_ok(fn, "a", a, m, k, lda, &s) ||
        !matrix_ok(fn, "b", b, trans_b ? n : k, trans_b ? k : n, ldb, &s) || !matrix_ok(fn, "c", c, m, n, ldc, &s))
      return s;
    if (m == 0) return ST_OK;
    const ElemType t = type == ST_FLOAT16 ? ElemType::kF16 : ElemType::kBf16;
    half_matmul_raw(HalfMatmulRawArgs{m, n, k, a, t, lda, b, t, ldb, trans_b != 0, c, ElemType::kF32, ldc, bias, int(act)});
    return ST_OK;
  });
}

}  // extern "C"
