// Packing of GEMM operands into the panel layouts the microkernels stream.
#pragma once
#include <cstddef>

namespace simdtensor {

// B (K×N, or N×K when trans_b) → ceil(N/nr) panels, each K groups of nr floats, zero-padded past N.
// Panel j starts at j*K*nr; the K block [p0, p0+kc) of that panel is at +p0*nr.
size_t packed_b_f32_floats(size_t k, size_t n, size_t nr);
void pack_b_f32(const float* b, size_t ldb, bool trans_b, size_t k, size_t n, size_t nr, float* out);
// Re-lays a packing of panel width nr0 into width nr (same K and N).
void repack_b_f32(const float* src, size_t nr0, size_t k, size_t n, size_t nr, float* out);

// A rows [0, m) × cols [0, kc) (row stride lda) → ceil(m/mr) panels of kc groups of mr floats.
// Rows past m in the last panel are left unwritten: the microkernel never reads them.
void pack_a_f32(const float* a, size_t lda, size_t m, size_t kc, size_t mr, float* out);

}  // namespace simdtensor
