// Packing for the half GEMM family: B panels in a variant's HalfBLayout, A in its HalfAPack format.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/half-gemm/half-gemm.h"

namespace simdtensor {

namespace {
inline size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
}  // namespace

// Halves in the packed B for layout L (ceil(N/nr) panels × round_up(K, kpad) K steps × nr).
size_t packed_b_half_count(size_t k, size_t n, const HalfBLayout& L);
// Index of element (p, j) of B inside the packed buffer.
size_t packed_b_half_index(size_t k, const HalfBLayout& L, size_t p, size_t j);
// B (K×N, or N×K when trans_b; raw half bits) → panels of layout L, zero-padded past N and K.
void pack_b_half(const uint16_t* b, size_t ldb, bool trans_b, size_t k, size_t n, const HalfBLayout& L, uint16_t* out);
// Re-lays a packed B from layout `from` into layout `to`.
void repack_b_half(const uint16_t* in, const HalfBLayout& from, size_t k, size_t n, const HalfBLayout& to, uint16_t* out);

// Largest |x| over an m×k block (row stride ld) of f32, f16 or bf16 values; Inf if any is Inf or NaN.
float max_abs(const void* x, ElemType t, size_t m, size_t k, size_t ld);

// Bytes of one packed A tile (mr rows × kc K steps) for the variant.
size_t packed_a_tile_bytes(const HalfGemmVariant& v, size_t kc);
// A rows [0, m) × K steps [p0, p0+kc) (row stride lda, element type t) → ceil(m/mr) tiles in v's A format.
// `tmp` is f32 scratch of at least m·kc floats (used when half A is widened for a kF32 variant).
void pack_a_half(const HalfGemmVariant& v, const void* a, ElemType t, size_t lda, size_t m, size_t p0, size_t kc,
                 void* out, float* tmp);

}  // namespace simdtensor
