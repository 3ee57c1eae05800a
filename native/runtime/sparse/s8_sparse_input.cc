// Builds int8 sparse weights from int8 values (see s8_sparse_input.h).
#include "runtime/sparse/s8_sparse_input.h"

#include <vector>

namespace simdtensor {

std::unique_ptr<S8SparseWeights> s8_sparse_create(SparseInput in, const int8_t* q, size_t n_values,
                                                  const float* scales, size_t n_scales, std::string* err) {
  std::vector<float> vals(q, q + n_values);  // one validator for both dtypes: it reads float values
  in.val = vals.data();
  in.val_len = n_values;
  return S8SparseWeights::create(in, scales, n_scales, err);
}

}  // namespace simdtensor
