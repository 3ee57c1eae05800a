// Portable int8 GEMM microkernel s8_gemm_4x8c4__scalar (the same template over width-1 traits; u8 activations).
#include "common/ivec_scalar.h"
#include "kernels/s8-gemm/gemv.h"
#include "kernels/s8-gemm/ukernel.h"

namespace simdtensor {
namespace {
struct DotScalar : IVecScalar {
  using A = const uint8_t*;
  using B = const int8_t*;
  static A bcast_a(const uint8_t* p) { return p; }
  static B load_b(const int8_t* p) { return p; }
  static I dot4(I acc, A a, B b) {
    uint32_t s = uint32_t(acc);
    for (int t = 0; t < 4; t++) s += uint32_t(int32_t(a[t]) * int32_t(b[t]));
    return int32_t(s);
  }
};
}  // namespace

ST_S8_GEMM_ENTRIES(s8_gemm_4x8c4__scalar, s8_gemv_4x8c4__scalar, DotScalar, 4, 8, 8)

}  // namespace simdtensor
