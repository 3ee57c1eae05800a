// vact: the GEMM-family activation chosen by its runtime code, on one vector (the sparse kernels' fused epilogues).
#pragma once
#include "common/vec_math.h"

namespace simdtensor {
namespace {

// Codes 0 none, 1 relu, 2 gelu: kActNone / kActRelu / kActGelu in kernels/f32-gemm/f32-gemm.h.
template <class V>
inline typename V::R vact(typename V::R x, int act) {
  if (act == 1) return vrelu<V>(x);
  if (act == 2) return vgelu<V>(x);
  return x;
}

}  // namespace
}  // namespace simdtensor
