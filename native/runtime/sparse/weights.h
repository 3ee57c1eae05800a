// Sparse f32 weights owned by native code: validated once on creation (so kernels never check indices), stored
// in the kernels' layout (column indices as u16 whenever K fits), plus a lazily made dense copy for the fallback.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/f32-spmm/f32-spmm.h"
#include "runtime/core/aligned.h"
#include "runtime/f32/packed_weights.h"

namespace simdtensor {

// Input arrays as the user (or the TypeScript layer) gives them. Index arrays are int32 or uint16 (idx16).
struct SparseInput {
  SparseFormat fmt = SparseFormat::kCsr;
  size_t n = 0, k = 0;
  const int32_t* ptr = nullptr;
  size_t ptr_len = 0;
  const void* idx = nullptr;  // CSR column / BSR block column: int32_t, or uint16_t when idx16
  bool idx16 = false;
  size_t idx_len = 0;
  const float* val = nullptr;
  size_t val_len = 0;
  size_t bh = 1, bw = 1;
  size_t nm_n = 0, nm_m = 0;
  const uint8_t* nib = nullptr;
  size_t nib_len = 0;
};

// Checks every structural invariant of `in` (lengths, sorted and in-range indices, N:M offsets, zero padding of
// edge blocks). Returns "" when valid, else a message naming the array, the position and the values.
std::string validate_sparse_input(const SparseInput& in);

// N:M weights repacked into panels of nr rows for the panel kernels (see F32NmPanels); owns the arrays.
struct F32NmPanelPack {
  std::vector<float> val;
  std::vector<uint32_t> off;
  F32NmPanels view;
  size_t bytes() const { return val.size() * sizeof(float) + off.size() * sizeof(uint32_t); }
};
// Packs N:M weights `w` (fmt kNm) into panels of nr rows.
std::shared_ptr<F32NmPanelPack> f32_nm_pack_panels(const F32SparseView& w, size_t nr);

// CSR repacked into chunks for the chunked xt kernel (see F32CsrChunks); owns the arrays.
struct F32CsrChunkPack {
  std::vector<uint32_t> cptr, tptr, sptr, sbase;
  std::vector<uint8_t> crow, off, trow, toff, srow;
  std::vector<float> val, tval;
  F32CsrChunks view;
  size_t bytes() const {
    return (cptr.size() + tptr.size() + sptr.size() + sbase.size()) * 4 + crow.size() + off.size() + trow.size() +
           toff.size() + srow.size() + (val.size() + tval.size()) * sizeof(float);
  }
};
// Repacks CSR weights `w` into chunks with K blocks of kb columns (1..255) and row groups of `rows` (1..256); with
// seg_max (even, 2..kCsrSegMax) in the segment layout instead of chunks and tails.
std::shared_ptr<F32CsrChunkPack> f32_csr_pack_chunks(const F32SparseView& w, size_t kb, size_t rows,
                                                     size_t seg_max = 0);

// The stored arrays of one format, as the kernels read them, and the view over them.
struct F32SparseArrays {
  std::vector<uint32_t> ptr;
  std::vector<uint16_t> idx16;
  std::vector<uint32_t> idx32;
  AlignedPtr<float> val;
  std::vector<uint8_t> nib;
  F32SparseView view;
  size_t bytes() const { return ptr.size() * 4 + idx16.size() * 2 + idx32.size() * 4 + view.nnz_stored * 4 + nib.size(); }
};
// CSR arrays rebuilt from a chunk pack (padding slots dropped; columns u16 when idx16): the exact CSR it was packed
// from. For variants without a chunked kernel once the CSR arrays were released (a lower ISA cap).
std::shared_ptr<F32SparseArrays> f32_csr_from_chunks(const F32CsrChunks& ck, size_t nnz, bool idx16);
// Writes the dense [n×k] matrix (row-major) that a chunk pack represents.
void f32_csr_chunks_to_dense(const F32CsrChunks& ck, float* dense);

// CSR weights are held in one form at a time where possible: the CSR arrays until a variant with a chunked CSR
// kernel runs them (chunks_only()), then only the chunk pack, which serves every M. A variant without a chunked
// kernel (ISA capped lower later) gets the CSR arrays back once, rebuilt from the pack (arrays()). Every accessor
// hands out shared_ptrs, so a call in flight on another thread keeps the form it runs on alive.
class F32SparseWeights {
 public:
  // Validates and copies; on invalid input returns null and sets *err.
  static std::unique_ptr<F32SparseWeights> create(const SparseInput& in, std::string* err);

  // Format, shape and counts (fmt, n, k, idx16, bh, bw, nm_n, nm_m, nnz_stored); the array pointers are null: the
  // arrays come from arrays().
  const F32SparseView& shape() const { return shape_; }
  // Stored values that are nonzero (NaN counts as nonzero).
  size_t nonzeros() const { return nonzeros_; }
  // Bytes held now: the arrays and every pack made so far.
  size_t bytes() const;
  // The format's arrays (CSR: rebuilt from the chunk pack, and kept, if chunks_only() had released them).
  std::shared_ptr<const F32SparseArrays> arrays();
  // Dense [n×k] weights packed for the dense GEMM with panel width nr, made on first use (thread-safe).
  std::shared_ptr<PackedF32Weights> dense_packed(size_t nr);
  bool has_dense() const;
  // Writes the dense [n×k] matrix (from whichever form is held).
  void to_dense(float* dense) const;
  // N:M only: the weights packed for the panel kernels with panel width nr, made on first use (thread-safe).
  std::shared_ptr<F32NmPanelPack> nm_panels(size_t nr);
  // CSR only: the chunk pack (made with kb, rows as f32_csr_pack_chunks when there is none yet; an existing pack
  // is returned whatever its kb: every chunked kernel runs any kb), after which the CSR arrays are released.
  std::shared_ptr<F32CsrChunkPack> chunks_only(size_t kb, size_t rows, size_t seg_max = 0);
  bool has_chunks() const;

 private:
  F32SparseWeights() = default;
  F32SparseView shape_;
  size_t nonzeros_ = 0;
  mutable std::mutex mu_;
  std::shared_ptr<const F32SparseArrays> arrays_;
  std::shared_ptr<PackedF32Weights> dense_;
  std::shared_ptr<F32NmPanelPack> panels_;
  std::shared_ptr<F32CsrChunkPack> chunks_;
};

// Writes the dense [n×k] matrix (row-major) that `w` represents.
void f32_sparse_to_dense(const F32SparseView& w, float* dense);

// Dense → sparse conversion, in two passes so the caller can allocate exact arrays:
// sizes first (ptr_len, idx_len, val_len, nib_len), then fill. For N:M, count() fails (returns a message) when a
// group holds more than n nonzeros or K is not a multiple of m.
struct SparseSizes {
  size_t ptr_len = 0, idx_len = 0, val_len = 0, nib_len = 0;
};
std::string f32_dense_to_sparse_sizes(const float* w, size_t n, size_t k, SparseFormat fmt, size_t a, size_t b,
                                      SparseSizes* sizes);
// Fills arrays sized by f32_dense_to_sparse_sizes (a, b: block bh×bw or N:M n, m). idx is int32 or uint16 (idx16).
void f32_dense_to_sparse_fill(const float* w, size_t n, size_t k, SparseFormat fmt, size_t a, size_t b, int32_t* ptr,
                              void* idx, bool idx16, float* val, uint8_t* nib);

}  // namespace simdtensor
