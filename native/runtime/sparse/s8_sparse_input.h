// Builds int8 sparse weights from int8 values: the values are widened to float so the one sparse-input validator
// (shared with f32) checks them. Plain C++ (no N-API), any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/sparse/s8.h"
#include "runtime/sparse/weights.h"

namespace simdtensor {

// S8SparseWeights::create over `in` with in.val / in.val_len taken from the n_values int8 values q (in's own are
// ignored); null with *err set when the input is invalid.
std::unique_ptr<S8SparseWeights> s8_sparse_create(SparseInput in, const int8_t* q, size_t n_values,
                                                  const float* scales, size_t n_scales, std::string* err);

}  // namespace simdtensor
