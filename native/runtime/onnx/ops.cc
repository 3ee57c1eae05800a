// ONNX runtime helpers: DynamicQuantizeLinear with onnxruntime's arithmetic, 4-byte N-d transpose, Gather rows.
#include "runtime/onnx/ops.h"

// GCC will not if-convert float compares while FP traps are considered observable (its default), which keeps the
// clamps below scalar; no value changes without traps. Clang's default already allows it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <cstring>

#include "cpu/features.h"
#include "runtime/int8/dynamic_linear.h"
#include "runtime/onnx/quant_impl.h"

namespace simdtensor {

void onnx_dynamic_quantize_u8(const float* x, size_t n, uint8_t* out, float* scale_out, int32_t* zero_out) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa_allowed(Isa::kAvx2)) return onnx_dynamic_quantize_u8__avx2(x, n, out, scale_out, zero_out);
#endif
  onnx_detail::dynamic_quantize_u8(x, n, out, scale_out, zero_out);
}

namespace {
// One contiguous run of n 4-byte elements. Short runs (a ConvTranspose's kW·M interleave, a Slice's rows) move in
// 16-byte pieces inline: a memcpy call per run cost ~10 ns each, more than the copy itself below ~64 floats.
inline void copy_run_4b(const uint32_t* src, uint32_t* dst, size_t n) {
  if (n > 64) {
    std::memcpy(dst, src, n * sizeof(uint32_t));
    return;
  }
  size_t t = 0;
  for (; t + 4 <= n; t += 4) std::memcpy(dst + t, src + t, 16);
  for (; t < n; t++) dst[t] = src[t];
}
}  // namespace

void onnx_transpose_4b(const uint32_t* x, uint32_t* out, const size_t* shape, const size_t* xstride, size_t rank) {
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  size_t total = 1;
  for (size_t d = 0; d < rank; d++) total *= shape[d];
  if (total == 0) return;
  const size_t inner = shape[rank - 1], is = xstride[rank - 1];
  // Short contiguous runs (<= 8 elements: a ConvTranspose's kW·M interleave with one output channel) take the last
  // two dims in one tight loop; the index step below costs more than such a run's copy.
  const bool rows2 = rank >= 2 && is == 1 && inner <= 8;
  const size_t rows = rows2 ? shape[rank - 2] : 1, rs = rows2 ? xstride[rank - 2] : 0;
  const size_t block = inner * rows, stepped = rows2 ? rank - 2 : rank - 1;  // dims the index step walks
  size_t idx[8] = {0};
  size_t off = 0;
  for (size_t o = 0; o < total; o += block) {
    if (rows2) {
      const uint32_t* src = x + off;
      uint32_t* dst = out + o;
      if (inner == 2)
        for (size_t r = 0; r < rows; r++) std::memcpy(dst + 2 * r, src + r * rs, 8);
      else
        for (size_t r = 0; r < rows; r++) copy_run_4b(src + r * rs, dst + r * inner, inner);
    } else if (is == 1) {
      copy_run_4b(x + off, out + o, inner);
    } else {
      const uint32_t* src = x + off;
      for (size_t t = 0; t < inner; t++) out[o + t] = src[t * is];
    }
    for (size_t d = stepped; d-- > 0;) {
      idx[d]++;
      off += xstride[d];
      if (idx[d] < shape[d]) break;
      off -= xstride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

namespace {

template <class I>
size_t gather_rows(const uint8_t* x, size_t outer, size_t dim, size_t row_bytes, const I* idx, size_t k, uint8_t* out) {
  const double lo = -double(dim), hi = double(dim);
  for (size_t j = 0; j < k; j++)
    if (!(double(idx[j]) >= lo && double(idx[j]) < hi)) return j;
  for (size_t o = 0; o < outer; o++) {
    const uint8_t* xo = x + o * dim * row_bytes;
    uint8_t* oo = out + o * k * row_bytes;
    for (size_t j = 0; j < k; j++) {
      const int64_t i = int64_t(idx[j]);
      std::memcpy(oo + j * row_bytes, xo + size_t(i < 0 ? i + int64_t(dim) : i) * row_bytes, row_bytes);
    }
  }
  return k;
}

}  // namespace

size_t onnx_gather_rows(const uint8_t* x, size_t outer, size_t dim, size_t row_bytes, const int32_t* idx, size_t k,
                        uint8_t* out) {
  return gather_rows(x, outer, dim, row_bytes, idx, k, out);
}
size_t onnx_gather_rows(const uint8_t* x, size_t outer, size_t dim, size_t row_bytes, const double* idx, size_t k,
                        uint8_t* out) {
  return gather_rows(x, outer, dim, row_bytes, idx, k, out);
}

void onnx_dynamic_quantize_fast_u8(const QuantizeVariant& qv, const float* x, size_t n, uint8_t* out, float* scale,
                                   int32_t* zero_point) {
  if (n > 0 && quantize_rows_dynamic_count(qv, 1, n, x, true, out, scale, zero_point) == 0) return;
  onnx_dynamic_quantize_u8(x, n, out, scale, zero_point);
}

void onnx_widen_i32(const uint8_t* x, size_t n, int32_t* out) {
  for (size_t i = 0; i < n; i++) out[i] = x[i];
}
void onnx_widen_i32(const int8_t* x, size_t n, int32_t* out) {
  for (size_t i = 0; i < n; i++) out[i] = x[i];
}

void onnx_int64_to_f64(const int64_t* x, size_t n, double* out) {
  for (size_t i = 0; i < n; i++) out[i] = double(x[i]);
}

}  // namespace simdtensor
