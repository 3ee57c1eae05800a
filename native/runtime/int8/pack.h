// Packing of int8 GEMM operands: B into panels of k-groups (with column sums for the zero-point correction), A
// into the layout and byte domain a variant reads.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/s8-gemm/s8-gemm.h"

namespace simdtensor {

// The layout of a B packing: panel width, padded K, and g = consecutive k of one column stored together.
struct S8PanelLayout {
  size_t nr, kpad, kgroup;
  bool operator<(const S8PanelLayout& o) const {
    return nr != o.nr ? nr < o.nr : kpad != o.kpad ? kpad < o.kpad : kgroup < o.kgroup;
  }
};

// B (K×N, or N×K when trans_b) → ceil(N/nr) panels, each kpad/g groups of nr×g bytes: column j's k-group q at
// panel(j/nr) + q·nr·g + (j%nr)·g. Bytes are B' = B (s8) or B ^ 0x80 = B - 128 (u8), zero past N and past K.
size_t packed_b_s8_bytes(size_t n, size_t nr, size_t kpad);
void pack_b_s8(const void* b, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n, const S8PanelLayout& l,
               int8_t* out);
// Re-lays a packing of layout `from` into layout `to` (k <= both pads).
void repack_b_s8(const int8_t* src, const S8PanelLayout& from, size_t k, size_t n, const S8PanelLayout& to, int8_t* out);
// colsum_j of B' over the K real rows.
void s8_b_column_sums(const void* b, bool b_unsigned, size_t ldb, bool trans_b, size_t k, size_t n, int32_t* out);

// Rows [0, m) × K of A (row stride lda, s8 or u8) → ceil(m/mr) tiles in variant v's layout with kpad, bytes in the
// kernel's domain (sign bit flipped when A's signedness differs from the kernel's). Rows past m and k past K are
// zero. When rowsums is non-null, rowsums[i] = sum of row i's packed bytes (in the kernel's domain).
size_t packed_a_s8_bytes(const S8GemmVariant& v, size_t m, size_t kpad);
void pack_a_s8(const S8GemmVariant& v, const void* a, bool a_unsigned, size_t lda, size_t m, size_t k, size_t kpad,
               uint8_t* out, int32_t* rowsums);
// The offset oa added to A by packing for variant v: +128 (s8 on a u8 kernel), -128 (u8 on an s8 kernel) or 0.
int32_t s8_a_offset(const S8GemmVariant& v, bool a_unsigned);

}  // namespace simdtensor
