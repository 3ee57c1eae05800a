// Small data-movement and quantization helpers the ONNX runtime (src/onnx) runs natively: ONNX
// DynamicQuantizeLinear with onnxruntime's exact arithmetic, an N-d transpose of 4-byte elements, and Gather's row copy.
// Plain C++ (no N-API), callable from any thread.
#pragma once
#include <cstddef>
#include <cstdint>

namespace simdtensor {

// ONNX DynamicQuantizeLinear (uint8): range [min(x, 0), max(x, 0)], scale = (max − min) / 255 (1 when the range is
// empty), zero point = rne(clamp(−min / scale, 0, 255)), q = clamp(rne(x / scale) + zp, 0, 255), all in float32 with
// a true division as onnxruntime computes it. NaN elements are skipped by the range and quantize to 0.
void onnx_dynamic_quantize_u8(const float* x, size_t n, uint8_t* out, float* scale, int32_t* zero_point);
#if defined(__x86_64__) || defined(_M_X64)
// The AVX2 build of the same loop (ops_avx2.cc); onnx_dynamic_quantize_u8 picks it when the ISA cap allows.
void onnx_dynamic_quantize_u8__avx2(const float* x, size_t n, uint8_t* out, float* scale, int32_t* zero_point);
#endif

// out = transpose of x for 4-byte elements: `shape` is the output shape (rank <= 8), `xstride[d]` the element stride
// in x of output axis d.
void onnx_transpose_4b(const uint32_t* x, uint32_t* out, const size_t* shape, const size_t* xstride, size_t rank);

// ONNX Gather as row copies: out[o, j, :] = x[o, idx[j], :] for o < outer, j < k, rows of row_bytes bytes, x holding
// outer × dim rows. An index may be negative (counted from the end: idx + dim). Every index is checked before
// anything is written: returns k when all are in [-dim, dim) (NaN is not), else the position of the first one that is
// not, with out untouched. Indices come as int32 or as int64 held in a double (the ONNX runtime's int64 storage).
size_t onnx_gather_rows(const uint8_t* x, size_t outer, size_t dim, size_t row_bytes, const int32_t* idx, size_t k,
                        uint8_t* out);
size_t onnx_gather_rows(const uint8_t* x, size_t outer, size_t dim, size_t row_bytes, const double* idx, size_t k,
                        uint8_t* out);

// The `fast-dynamic-quantize` pass's DynamicQuantize (uint8): the library's per-row quantizer `qv` over the one row of
// n elements (its range widened to include 0, scale (max − min)/255, x·(1/scale) rounded half to even), or
// onnx_dynamic_quantize_u8 (onnxruntime's exact rules) when x is empty or holds NaN/±Inf.
struct QuantizeVariant;
void onnx_dynamic_quantize_fast_u8(const QuantizeVariant& qv, const float* x, size_t n, uint8_t* out, float* scale,
                                   int32_t* zero_point);

// out[i] = x[i] widened to int32 (a zero point for the int8 GEMM's int32 parameter).
void onnx_widen_i32(const uint8_t* x, size_t n, int32_t* out);
void onnx_widen_i32(const int8_t* x, size_t n, int32_t* out);

// out[i] = x[i] as a double, rounded to nearest-even past 2^53 as JavaScript's Number(bigint) does: the ONNX runtime
// holds int64 tensors as doubles, and reading a BigInt64Array from JavaScript makes one BigInt object per element.
void onnx_int64_to_f64(const int64_t* x, size_t n, double* out);

}  // namespace simdtensor
