// Validation, ownership and dense <-> sparse conversion of sparse f32 weights (portable C++, offline paths).
#include "runtime/sparse/weights.h"

#include <algorithm>
#include <cstring>

namespace simdtensor {

namespace {

std::string str(size_t v) { return std::to_string(v); }
std::string sstr(int64_t v) { return std::to_string(v); }

inline int64_t idx_at(const void* p, bool idx16, size_t i) {
  return idx16 ? int64_t(static_cast<const uint16_t*>(p)[i]) : int64_t(static_cast<const int32_t*>(p)[i]);
}

// Whether block (br, bc) of bh×bw (clipped to the n×k matrix w) holds a nonzero.
bool block_has_nonzero(const float* w, size_t n, size_t k, size_t br, size_t bc, size_t bh, size_t bw) {
  for (size_t i = br * bh; i < n && i < (br + 1) * bh; i++)
    for (size_t j = bc * bw; j < k && j < (bc + 1) * bw; j++)
      if (w[i * k + j] != 0.0f) return true;
  return false;
}

const char* ptr_name(SparseFormat f) { return f == SparseFormat::kBsr ? "blockRowPtr" : "rowPtr"; }
const char* idx_name(SparseFormat f) { return f == SparseFormat::kBsr ? "blockColIdx" : "colIdx"; }

// Row pointers of `rows` rows: length rows+1, start 0, non-decreasing, end == entries.
std::string check_ptr(const SparseInput& in, size_t rows, size_t* entries) {
  const char* pn = ptr_name(in.fmt);
  if (in.ptr_len != rows + 1)
    return std::string(pn) + " has " + str(in.ptr_len) + " entries, expected " + str(rows + 1) + " (rows + 1)";
  if (in.ptr[0] != 0) return std::string(pn) + "[0] must be 0, got " + sstr(in.ptr[0]);
  for (size_t r = 0; r < rows; r++)
    if (in.ptr[r + 1] < in.ptr[r])
      return std::string(pn) + "[" + str(r + 1) + "] (" + sstr(in.ptr[r + 1]) + ") < " + pn + "[" + str(r) + "] (" +
             sstr(in.ptr[r]) + "): row pointers must be non-decreasing";
  *entries = size_t(in.ptr[rows]);
  return "";
}

// Indices of each row strictly increasing and in [0, limit).
std::string check_idx(const SparseInput& in, size_t rows, size_t limit) {
  const char* in_ = idx_name(in.fmt);
  for (size_t r = 0; r < rows; r++) {
    int64_t prev = -1;
    for (size_t j = size_t(in.ptr[r]); j < size_t(in.ptr[r + 1]); j++) {
      const int64_t c = idx_at(in.idx, in.idx16, j);
      if (c < 0 || c >= int64_t(limit))
        return std::string(in_) + "[" + str(j) + "] (" + sstr(c) + ") in row " + str(r) + " is out of range [0, " +
               str(limit) + ")";
      if (c <= prev)
        return std::string(in_) + "[" + str(j) + "] (" + sstr(c) + ") in row " + str(r) +
               " is not greater than the previous index (" + sstr(prev) + "): indices must be sorted and unique";
      prev = c;
    }
  }
  return "";
}

}  // namespace

std::string validate_sparse_input(const SparseInput& in) {
  if (in.n > (size_t(1) << 31) || in.k > (size_t(1) << 31))
    return "shape [" + str(in.n) + ", " + str(in.k) + "] is too large (each dimension must be <= 2^31)";
  if (in.val_len > 0 && !in.val) return "values is missing";
  switch (in.fmt) {
    case SparseFormat::kCsr: {
      size_t nnz = 0;
      if (!in.ptr) return "rowPtr is missing";
      std::string e = check_ptr(in, in.n, &nnz);
      if (!e.empty()) return e;
      if (in.idx_len != nnz) return "colIdx has " + str(in.idx_len) + " entries, rowPtr[n] says " + str(nnz);
      if (in.val_len != nnz) return "values has " + str(in.val_len) + " entries, rowPtr[n] says " + str(nnz);
      if (nnz > 0 && !in.idx) return "colIdx is missing";
      return check_idx(in, in.n, in.k);
    }
    case SparseFormat::kBsr: {
      if (in.bh < 1 || in.bw < 1 || in.bh > 64 || in.bw > 64)
        return "block shape [" + str(in.bh) + ", " + str(in.bw) + "] must be within [1..64, 1..64]";
      const size_t brows = (in.n + in.bh - 1) / in.bh, bcols = (in.k + in.bw - 1) / in.bw;
      size_t nb = 0;
      if (!in.ptr) return "blockRowPtr is missing";
      std::string e = check_ptr(in, brows, &nb);
      if (!e.empty()) return e;
      if (in.idx_len != nb) return "blockColIdx has " + str(in.idx_len) + " entries, blockRowPtr[last] says " + str(nb);
      const size_t bsz = in.bh * in.bw;
      if (in.val_len / bsz != nb || in.val_len % bsz != 0)
        return "values has " + str(in.val_len) + " entries, expected " + str(nb) + " blocks × " + str(bsz) + " = " +
               str(nb * bsz);
      if (nb > 0 && !in.idx) return "blockColIdx is missing";
      e = check_idx(in, brows, bcols);
      if (!e.empty()) return e;
      // Edge blocks: entries past N or K must be zero, or toDense() and the kernels would disagree.
      if (in.n % in.bh != 0 || in.k % in.bw != 0)
        for (size_t br = 0; br < brows; br++)
          for (size_t b = size_t(in.ptr[br]); b < size_t(in.ptr[br + 1]); b++) {
            const size_t k0 = size_t(idx_at(in.idx, in.idx16, b)) * in.bw;
            for (size_t i = 0; i < in.bh; i++)
              for (size_t j = 0; j < in.bw; j++) {
                const float v = in.val[b * bsz + i * in.bw + j];
                if ((br * in.bh + i >= in.n || k0 + j >= in.k) && v != 0.0f)
                  return "values of block " + str(b) + " at [" + str(i) + ", " + str(j) + "] lie outside the [" +
                         str(in.n) + ", " + str(in.k) + "] matrix and must be 0";
              }
          }
      return "";
    }
    case SparseFormat::kNm: {
      if (in.nm_m < 1 || in.nm_m > 16 || in.nm_n < 1 || in.nm_n > in.nm_m)
        return "n:m (" + str(in.nm_n) + ":" + str(in.nm_m) + ") must satisfy 1 <= n <= m <= 16";
      if (in.k % in.nm_m != 0)
        return "K (" + str(in.k) + ") must be a multiple of m (" + str(in.nm_m) + ") for the n:m format";
      const size_t groups = in.k / in.nm_m, per_row = groups * in.nm_n, rbytes = (per_row + 1) / 2;
      if (in.val_len != in.n * per_row)
        return "values has " + str(in.val_len) + " entries, expected " + str(in.n * per_row) + " (N × K/m × n)";
      if (in.nib_len != in.n * rbytes)
        return "indices has " + str(in.nib_len) + " bytes, expected " + str(in.n * rbytes) +
               " (N × ceil(K/m × n / 2), two 4-bit offsets per byte)";
      if (in.nib_len > 0 && !in.nib) return "indices is missing";
      for (size_t r = 0; r < in.n; r++) {
        const uint8_t* ib = in.nib + r * rbytes;
        for (size_t g = 0; g < groups; g++) {
          int prev = -1;
          for (size_t s = 0; s < in.nm_n; s++) {
            const size_t t = g * in.nm_n + s;
            const int off = (ib[t >> 1] >> ((t & 1) * 4)) & 15;
            if (off >= int(in.nm_m) || off <= prev)
              return "indices: offset " + sstr(off) + " of slot " + str(s) + " in group " + str(g) + " of row " +
                     str(r) + (off >= int(in.nm_m) ? " is >= m (" + str(in.nm_m) + ")"
                                                    : " is not greater than the previous offset (" + sstr(prev) +
                                                          "): offsets must be sorted and unique");
            prev = off;
          }
        }
      }
      return "";
    }
  }
  return "unknown format";
}

std::unique_ptr<F32SparseWeights> F32SparseWeights::create(const SparseInput& in, std::string* err) {
  *err = validate_sparse_input(in);
  if (!err->empty()) return nullptr;
  std::unique_ptr<F32SparseWeights> w(new F32SparseWeights());
  auto arr = std::make_shared<F32SparseArrays>();
  F32SparseView& v = arr->view;
  v.fmt = in.fmt;
  v.n = in.n;
  v.k = in.k;
  if (in.fmt != SparseFormat::kNm) {
    arr->ptr.assign(in.ptr, in.ptr + in.ptr_len);
    const size_t limit = in.fmt == SparseFormat::kBsr ? (in.k + in.bw - 1) / in.bw : in.k;
    v.idx16 = limit <= 65536;
    if (v.idx16) {
      arr->idx16.resize(in.idx_len);
      for (size_t j = 0; j < in.idx_len; j++) arr->idx16[j] = uint16_t(idx_at(in.idx, in.idx16, j));
      v.idx = arr->idx16.data();
    } else {
      arr->idx32.resize(in.idx_len);
      for (size_t j = 0; j < in.idx_len; j++) arr->idx32[j] = uint32_t(idx_at(in.idx, in.idx16, j));
      v.idx = arr->idx32.data();
    }
    v.ptr = arr->ptr.data();
  } else {
    arr->nib.assign(in.nib, in.nib + in.nib_len);
    v.nib = arr->nib.data();
    v.nm_n = in.nm_n;
    v.nm_m = in.nm_m;
  }
  if (in.fmt == SparseFormat::kBsr) {
    v.bh = in.bh;
    v.bw = in.bw;
  }
  arr->val = aligned_alloc_array<float>(in.val_len);
  if (in.val_len) std::memcpy(arr->val.get(), in.val, in.val_len * sizeof(float));
  v.val = arr->val.get();
  v.nnz_stored = in.val_len;
  size_t nz = 0;
  for (size_t j = 0; j < in.val_len; j++) nz += in.val[j] != 0.0f;
  w->nonzeros_ = nz;
  w->shape_ = v;
  w->shape_.ptr = nullptr;
  w->shape_.idx = nullptr;
  w->shape_.val = nullptr;
  w->shape_.nib = nullptr;
  w->arrays_ = std::move(arr);
  return w;
}

size_t F32SparseWeights::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t b = arrays_ ? arrays_->bytes() : 0;
  if (dense_) b += dense_->bytes();
  if (panels_) b += panels_->bytes();
  if (chunks_) b += chunks_->bytes();
  return b;
}

std::shared_ptr<const F32SparseArrays> F32SparseWeights::arrays() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!arrays_) arrays_ = f32_csr_from_chunks(chunks_->view, shape_.nnz_stored, shape_.idx16);
  return arrays_;
}

bool F32SparseWeights::has_dense() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dense_ != nullptr;
}

void F32SparseWeights::to_dense(float* dense) const {
  std::shared_ptr<const F32SparseArrays> arr;
  std::shared_ptr<const F32CsrChunkPack> ck;
  {
    std::lock_guard<std::mutex> lock(mu_);
    arr = arrays_;
    ck = chunks_;
  }
  if (arr) f32_sparse_to_dense(arr->view, dense);
  else f32_csr_chunks_to_dense(ck->view, dense);
}

std::shared_ptr<PackedF32Weights> F32SparseWeights::dense_packed(size_t nr) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (dense_) return dense_;
  }
  std::vector<float> d(shape_.n * shape_.k);
  to_dense(d.data());
  auto packed = std::make_shared<PackedF32Weights>(d.data(), shape_.k, true, shape_.k, shape_.n, nr);
  std::lock_guard<std::mutex> lock(mu_);
  if (!dense_) dense_ = std::move(packed);  // a concurrent first call may have packed it too: keep one
  return dense_;
}

std::shared_ptr<F32NmPanelPack> F32SparseWeights::nm_panels(size_t nr) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!panels_ || panels_->view.nr != nr) panels_ = f32_nm_pack_panels(arrays_->view, nr);  // N:M keeps its arrays
  return panels_;
}

std::shared_ptr<F32CsrChunkPack> F32SparseWeights::chunks_only(size_t kb, size_t rows, size_t seg_max) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!chunks_) chunks_ = f32_csr_pack_chunks(arrays_->view, kb, rows, seg_max);
  arrays_.reset();  // calls in flight on the CSR kernels hold their own reference
  return chunks_;
}

bool F32SparseWeights::has_chunks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunks_ != nullptr;
}

// Calls f(row, column, value) for every stored (non-padding) slot of a chunk pack: per group and block, the full
// chunks then the tails, so each row's slots come in increasing column order (blocks ascending, a row's chunks in
// list order, its tail last in the block). Segment layout: the lists from the longest segments down (a row's pieces
// of seg_max come first, in order, its shorter last piece after them).
template <class F>
void for_each_chunk_slot(const F32CsrChunks& ck, F&& f) {
  const size_t C = ck.seg_max / 2;
  for (size_t g = 0; g < ck.groups; g++)
    for (size_t b = 0; b < ck.blocks; b++) {
      const size_t gb = g * ck.blocks + b, r0 = g * ck.rows, k0 = b * ck.kb;
      if (C) {
        for (size_t c = C; c-- > 0;) {
          const size_t l = gb * C + c, L = 2 * (c + 1);
          for (size_t sg = ck.sptr[l], p = ck.sbase[l]; sg < ck.sptr[l + 1]; sg++)
            for (size_t s = 0; s < L; s++, p++)
              if (ck.off[p] != ck.kb) f(r0 + ck.srow[sg], k0 + ck.off[p], ck.val[p]);
        }
        continue;
      }
      for (size_t c = ck.cptr[gb]; c < ck.cptr[gb + 1]; c++)
        for (size_t s = 0; s < kCsrChunk; s++)
          if (ck.off[c * kCsrChunk + s] != ck.kb)
            f(r0 + ck.crow[c], k0 + ck.off[c * kCsrChunk + s], ck.val[c * kCsrChunk + s]);
      for (size_t c = ck.tptr[gb]; c < ck.tptr[gb + 1]; c++)
        for (size_t s = 0; s < kCsrTail; s++)
          if (ck.toff[c * kCsrTail + s] != ck.kb)
            f(r0 + ck.trow[c], k0 + ck.toff[c * kCsrTail + s], ck.tval[c * kCsrTail + s]);
    }
}

std::shared_ptr<F32SparseArrays> f32_csr_from_chunks(const F32CsrChunks& ck, size_t nnz, bool idx16) {
  auto arr = std::make_shared<F32SparseArrays>();
  F32SparseView& v = arr->view;
  v.fmt = SparseFormat::kCsr;
  v.n = ck.n;
  v.k = ck.k;
  v.idx16 = idx16;
  v.nnz_stored = nnz;
  arr->ptr.assign(ck.n + 1, 0);
  for_each_chunk_slot(ck, [&](size_t r, size_t, float) { arr->ptr[r + 1]++; });
  for (size_t r = 0; r < ck.n; r++) arr->ptr[r + 1] += arr->ptr[r];
  if (idx16) arr->idx16.resize(nnz);
  else arr->idx32.resize(nnz);
  arr->val = aligned_alloc_array<float>(nnz);
  std::vector<uint32_t> cur(arr->ptr.begin(), arr->ptr.end() - 1);
  float* val = arr->val.get();
  for_each_chunk_slot(ck, [&](size_t r, size_t c, float x) {
    const uint32_t j = cur[r]++;
    if (idx16) arr->idx16[j] = uint16_t(c);
    else arr->idx32[j] = uint32_t(c);
    val[j] = x;
  });
  v.ptr = arr->ptr.data();
  v.idx = idx16 ? static_cast<const void*>(arr->idx16.data()) : static_cast<const void*>(arr->idx32.data());
  v.val = val;
  return arr;
}

void f32_csr_chunks_to_dense(const F32CsrChunks& ck, float* dense) {
  if (ck.n == 0 || ck.k == 0) return;
  std::memset(dense, 0, ck.n * ck.k * sizeof(float));
  for_each_chunk_slot(ck, [&](size_t r, size_t c, float x) { dense[r * ck.k + c] = x; });
}

namespace {

// Calls f(len) with the number of values of every row in every K block of kb columns (rows in order, blocks in order).
template <class Col, class F>
void for_each_row_block(const F32SparseView& w, Col col, size_t blocks, size_t kb, F&& f) {
  for (size_t r = 0; r < w.n; r++) {
    size_t j = w.ptr[r];
    const size_t e = w.ptr[r + 1];
    for (size_t b = 0; b < blocks; b++) {
      const size_t j0 = j;
      while (j < e && col(j) < (b + 1) * kb) j++;
      f(j - j0);
    }
  }
}

// The segment layout of f32_csr_pack_chunks (v's shape fields set; see F32CsrChunks).
template <class Col>
void pack_segments(const F32SparseView& w, Col col, F32CsrChunkPack* pk) {
  F32CsrChunks& v = pk->view;
  const size_t kb = v.kb, rows = v.rows, S = v.seg_max, C = S / 2;
  const size_t lists = v.groups * v.blocks * C;
  pk->sptr.assign(lists + 1, 0);
  pk->sbase.assign(lists + 1, 0);
  // Exact sizes first: per row and block, len / S pieces of S and one of the remainder (padded to even).
  size_t segs = 0, slots = 0;
  for_each_row_block(w, col, v.blocks, kb, [&](size_t len) {
    const size_t rem = len % S;
    segs += len / S + (rem ? 1 : 0);
    slots += len / S * S + (rem + 1) / 2 * 2;
  });
  pk->srow.resize(segs);
  pk->off.assign(slots + kCsrSegSlack, uint8_t(kb));  // padding points at the block's zero row
  pk->val.assign(slots + kCsrSegSlack, 0.0f);
  std::vector<size_t> cur(rows), end(rows);
  size_t sg = 0, p = 0, l = 0;
  auto emit = [&](size_t i, size_t j, size_t len, size_t L, size_t k0) {
    pk->srow[sg++] = uint8_t(i);
    for (size_t s = 0; s < len; s++) {
      pk->off[p + s] = uint8_t(col(j + s) - k0);
      pk->val[p + s] = w.val[j + s];
    }
    p += L;
  };
  for (size_t g = 0; g < v.groups; g++) {
    const size_t r0 = g * rows, nr = std::min(rows, w.n - r0);
    for (size_t i = 0; i < nr; i++) cur[i] = w.ptr[r0 + i];
    for (size_t b = 0; b < v.blocks; b++) {
      const size_t lim = (b + 1) * kb, k0 = b * kb;
      for (size_t i = 0; i < nr; i++) {
        size_t j = cur[i];
        const size_t e = w.ptr[r0 + i + 1];
        while (j < e && col(j) < lim) j++;
        end[i] = j;
      }
      for (size_t c = 0; c < C; c++, l++) {
        const size_t L = 2 * (c + 1);
        pk->sptr[l] = uint32_t(sg);
        pk->sbase[l] = uint32_t(p);
        for (size_t i = 0; i < nr; i++) {
          const size_t len = end[i] - cur[i], full = len / S, rem = len % S;
          if (L == S)
            for (size_t q = 0; q < full; q++) emit(i, cur[i] + q * S, S, S, k0);
          if (rem && (rem + 1) / 2 * 2 == L) emit(i, cur[i] + full * S, rem, L, k0);
        }
      }
      for (size_t i = 0; i < nr; i++) cur[i] = end[i];
    }
  }
  pk->sptr[lists] = uint32_t(sg);
  pk->sbase[lists] = uint32_t(p);
  v.sptr = pk->sptr.data();
  v.sbase = pk->sbase.data();
  v.srow = pk->srow.data();
  v.off = pk->off.data();
  v.val = pk->val.data();
}

}  // namespace

std::shared_ptr<F32CsrChunkPack> f32_csr_pack_chunks(const F32SparseView& w, size_t kb, size_t rows, size_t seg_max) {
  auto pk = std::make_shared<F32CsrChunkPack>();
  F32CsrChunks& v = pk->view;
  v.n = w.n;
  v.k = w.k;
  v.kb = kb;
  v.rows = rows;
  v.blocks = (w.k + kb - 1) / kb;
  v.groups = (w.n + rows - 1) / rows;
  auto col = [&](size_t j) -> size_t {
    return w.idx16 ? static_cast<const uint16_t*>(w.idx)[j] : static_cast<const uint32_t*>(w.idx)[j];
  };
  if (seg_max) {
    v.seg_max = seg_max;
    pack_segments(w, col, pk.get());
    return pk;
  }
  // A segment of len values: len / kCsrChunk full chunks, then its remainder in a tail chunk (1..kCsrTail values)
  // or one more full chunk (larger remainders). Count them first for exact arrays.
  auto split = [](size_t len, size_t* full, size_t* tail) {
    const size_t r = len % kCsrChunk;
    *full = len / kCsrChunk + (r > kCsrTail ? 1 : 0);
    *tail = r && r <= kCsrTail ? 1 : 0;
  };
  size_t total = 0, total_t = 0;
  for_each_row_block(w, col, v.blocks, kb, [&](size_t len) {
    size_t f, t;
    split(len, &f, &t);
    total += f;
    total_t += t;
  });
  pk->cptr.assign(v.groups * v.blocks + 1, 0);
  pk->crow.resize(total);
  pk->off.assign(total * kCsrChunk, uint8_t(kb));  // padding points at the block's zero row
  pk->val.assign(total * kCsrChunk, 0.0f);
  pk->tptr.assign(v.groups * v.blocks + 1, 0);
  pk->trow.resize(total_t);
  pk->toff.assign(total_t * kCsrTail, uint8_t(kb));
  pk->tval.assign(total_t * kCsrTail, 0.0f);
  std::vector<size_t> cur(rows), end(rows), nfull(rows);
  size_t c = 0, ct = 0;
  for (size_t g = 0; g < v.groups; g++) {
    const size_t r0 = g * rows, nr = std::min(rows, w.n - r0);
    for (size_t i = 0; i < nr; i++) cur[i] = w.ptr[r0 + i];
    for (size_t b = 0; b < v.blocks; b++) {
      const size_t lim = (b + 1) * kb;
      for (size_t i = 0; i < nr; i++) {
        size_t j = cur[i];
        const size_t e = w.ptr[r0 + i + 1];
        while (j < e && col(j) < lim) j++;
        end[i] = j;
        size_t t;
        split(end[i] - cur[i], &nfull[i], &t);
      }
      for (bool any = true; any;) {  // row-round-robin: every row's next full chunk in turn
        any = false;
        for (size_t i = 0; i < nr; i++) {
          if (nfull[i] == 0) continue;
          any = true;
          nfull[i]--;
          pk->crow[c] = uint8_t(i);
          for (size_t s = 0; s < kCsrChunk && cur[i] < end[i]; s++, cur[i]++) {
            pk->off[c * kCsrChunk + s] = uint8_t(col(cur[i]) - b * kb);
            pk->val[c * kCsrChunk + s] = w.val[cur[i]];
          }
          c++;
        }
      }
      for (size_t i = 0; i < nr; i++) {  // what is left of a row is its tail (at most kCsrTail values)
        if (cur[i] == end[i]) continue;
        pk->trow[ct] = uint8_t(i);
        for (size_t s = 0; cur[i] < end[i]; s++, cur[i]++) {
          pk->toff[ct * kCsrTail + s] = uint8_t(col(cur[i]) - b * kb);
          pk->tval[ct * kCsrTail + s] = w.val[cur[i]];
        }
        ct++;
      }
      pk->cptr[g * v.blocks + b + 1] = uint32_t(c);
      pk->tptr[g * v.blocks + b + 1] = uint32_t(ct);
    }
  }
  v.cptr = pk->cptr.data();
  v.crow = pk->crow.data();
  v.off = pk->off.data();
  v.val = pk->val.data();
  v.tptr = pk->tptr.data();
  v.trow = pk->trow.data();
  v.toff = pk->toff.data();
  v.tval = pk->tval.data();
  return pk;
}

std::shared_ptr<F32NmPanelPack> f32_nm_pack_panels(const F32SparseView& w, size_t nr) {
  auto pk = std::make_shared<F32NmPanelPack>();
  F32NmPanels& v = pk->view;
  v.n = w.n;
  v.k = w.k;
  v.nn = w.nm_n;
  v.mm = w.nm_m;
  v.nr = nr;
  const size_t S = v.slots(), OW = v.off_words(), P = v.panels(), rbytes = w.nm_row_bytes();
  pk->val.assign(P * S * nr, 0.0f);
  pk->off.assign(P * OW * nr, 0u);
  for (size_t r = 0; r < w.n; r++) {
    const size_t p = r / nr, j = r % nr;
    for (size_t t = 0; t < S; t++) {
      pk->val[(p * S + t) * nr + j] = w.val[r * S + t];
      const uint32_t o = (w.nib[r * rbytes + (t >> 1)] >> ((t & 1) * 4)) & 15u;
      pk->off[(p * OW + t / 8) * nr + j] |= o << ((t % 8) * 4);
    }
  }
  v.val = pk->val.data();
  v.off = pk->off.data();
  return pk;
}

void f32_sparse_to_dense(const F32SparseView& w, float* dense) {
  if (w.n == 0 || w.k == 0) return;  // nothing to write (and dense may be null: an empty vector's data())
  std::memset(dense, 0, w.n * w.k * sizeof(float));
  auto col = [&](size_t j) -> size_t {
    return w.idx16 ? static_cast<const uint16_t*>(w.idx)[j] : static_cast<const uint32_t*>(w.idx)[j];
  };
  switch (w.fmt) {
    case SparseFormat::kCsr:
      for (size_t r = 0; r < w.n; r++)
        for (size_t j = w.ptr[r]; j < w.ptr[r + 1]; j++) dense[r * w.k + col(j)] = w.val[j];
      break;
    case SparseFormat::kBsr: {
      const size_t brows = (w.n + w.bh - 1) / w.bh, bsz = w.bh * w.bw;
      for (size_t br = 0; br < brows; br++)
        for (size_t b = w.ptr[br]; b < w.ptr[br + 1]; b++)
          for (size_t i = 0; i < w.bh; i++)
            for (size_t j = 0; j < w.bw; j++) {
              const size_t r = br * w.bh + i, c = col(b) * w.bw + j;
              if (r < w.n && c < w.k) dense[r * w.k + c] = w.val[b * bsz + i * w.bw + j];
            }
      break;
    }
    case SparseFormat::kNm: {
      const size_t groups = w.nm_groups(), per_row = groups * w.nm_n, rbytes = w.nm_row_bytes();
      for (size_t r = 0; r < w.n; r++)
        for (size_t t = 0; t < per_row; t++) {
          const size_t off = (w.nib[r * rbytes + (t >> 1)] >> ((t & 1) * 4)) & 15u;
          dense[r * w.k + (t / w.nm_n) * w.nm_m + off] = w.val[r * per_row + t];  // offsets are unique per group
        }
      break;
    }
  }
}

std::string f32_dense_to_sparse_sizes(const float* w, size_t n, size_t k, SparseFormat fmt, size_t a, size_t b,
                                      SparseSizes* s) {
  *s = SparseSizes{};
  switch (fmt) {
    case SparseFormat::kCsr: {
      size_t nnz = 0;
      for (size_t i = 0; i < n * k; i++) nnz += w[i] != 0.0f;
      if (nnz > 0x7fffffffu) return "too many nonzeros (" + str(nnz) + ") for int32 row pointers";
      *s = {n + 1, nnz, nnz, 0};
      return "";
    }
    case SparseFormat::kBsr: {
      const size_t bh = a, bw = b;
      if (bh < 1 || bw < 1 || bh > 64 || bw > 64)
        return "block shape [" + str(bh) + ", " + str(bw) + "] must be within [1..64, 1..64]";
      const size_t brows = (n + bh - 1) / bh, bcols = (k + bw - 1) / bw;
      size_t nb = 0;
      for (size_t br = 0; br < brows; br++)
        for (size_t bc = 0; bc < bcols; bc++) nb += block_has_nonzero(w, n, k, br, bc, bh, bw);
      if (nb * bh * bw > 0x7fffffffu) return "too many stored values for int32 block pointers";
      *s = {brows + 1, nb, nb * bh * bw, 0};
      return "";
    }
    case SparseFormat::kNm: {
      const size_t nn = a, mm = b;
      if (mm < 1 || mm > 16 || nn < 1 || nn > mm) return "n:m (" + str(nn) + ":" + str(mm) + ") must satisfy 1 <= n <= m <= 16";
      if (k % mm != 0) return "w.shape[1] (" + str(k) + ") must be a multiple of m (" + str(mm) + ") for the n:m format";
      const size_t groups = k / mm;
      for (size_t r = 0; r < n; r++)
        for (size_t g = 0; g < groups; g++) {
          size_t c = 0;
          for (size_t j = 0; j < mm; j++) c += w[r * k + g * mm + j] != 0.0f;
          if (c > nn)
            return "row " + str(r) + ", columns " + str(g * mm) + ".." + str(g * mm + mm - 1) + " hold " + str(c) +
                   " nonzeros, more than n = " + str(nn) + " (prune with pattern 'n:m' first)";
        }
      const size_t per_row = groups * nn;
      *s = {0, 0, n * per_row, n * ((per_row + 1) / 2)};
      return "";
    }
  }
  return "unknown format";
}

void f32_dense_to_sparse_fill(const float* w, size_t n, size_t k, SparseFormat fmt, size_t a, size_t b, int32_t* ptr,
                              void* idx, bool idx16, float* val, uint8_t* nib) {
  auto put_idx = [&](size_t j, size_t c) {
    if (idx16) static_cast<uint16_t*>(idx)[j] = uint16_t(c);
    else static_cast<int32_t*>(idx)[j] = int32_t(c);
  };
  switch (fmt) {
    case SparseFormat::kCsr: {
      size_t j = 0;
      ptr[0] = 0;
      for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < k; c++)
          if (w[r * k + c] != 0.0f) {
            put_idx(j, c);
            val[j++] = w[r * k + c];
          }
        ptr[r + 1] = int32_t(j);
      }
      break;
    }
    case SparseFormat::kBsr: {
      const size_t bh = a, bw = b, brows = (n + bh - 1) / bh, bcols = (k + bw - 1) / bw;
      size_t nb = 0;
      ptr[0] = 0;
      for (size_t br = 0; br < brows; br++) {
        for (size_t bc = 0; bc < bcols; bc++) {
          if (!block_has_nonzero(w, n, k, br, bc, bh, bw)) continue;
          put_idx(nb, bc);
          for (size_t i = 0; i < bh; i++)
            for (size_t j = 0; j < bw; j++) {
              const size_t r = br * bh + i, c = bc * bw + j;
              val[(nb * bh + i) * bw + j] = (r < n && c < k) ? w[r * k + c] : 0.0f;
            }
          nb++;
        }
        ptr[br + 1] = int32_t(nb);
      }
      break;
    }
    case SparseFormat::kNm: {
      const size_t nn = a, mm = b, groups = k / mm, per_row = groups * nn, rbytes = (per_row + 1) / 2;
      if (n != 0 && rbytes != 0) std::memset(nib, 0, n * rbytes);  // nib may be null when empty
      for (size_t r = 0; r < n; r++)
        for (size_t g = 0; g < groups; g++) {
          // Nonzero offsets first, then the lowest zero offsets to fill n slots; then sort ascending.
          uint8_t offs[16];
          size_t c = 0;
          for (size_t j = 0; j < mm; j++)
            if (w[r * k + g * mm + j] != 0.0f) offs[c++] = uint8_t(j);
          for (size_t j = 0; j < mm && c < nn; j++)
            if (w[r * k + g * mm + j] == 0.0f) offs[c++] = uint8_t(j);
          for (size_t x = 1; x < nn; x++)
            for (size_t y = x; y > 0 && offs[y - 1] > offs[y]; y--) std::swap(offs[y - 1], offs[y]);
          for (size_t s = 0; s < nn; s++) {
            const size_t t = g * nn + s;
            val[r * per_row + t] = w[r * k + g * mm + offs[s]];
            nib[r * rbytes + (t >> 1)] |= uint8_t(offs[s] << ((t & 1) * 4));
          }
        }
      break;
    }
  }
}

}  // namespace simdtensor
