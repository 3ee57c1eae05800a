// Argument parsing shared by the sync half-precision GEMM entry points (half.cc) and their async forms
// (half_async.cc): both forms accept and refuse exactly the same arguments. No math here.
#pragma once
#include <napi.h>

#include <cstddef>
#include <memory>

#include "binding/util.h"
#include "runtime/half/gemm_driver.h"

namespace simdtensor {

class PackedHalfWeights;

namespace binding {

// halfMatmulPacked(a, aType, m, packed, out, outType, bias|null, act) at info[0..7].
struct HalfPackedCall {
  std::shared_ptr<PackedHalfWeights> w;
  HalfMatmulArgs x;  // x.w == w.get()
  size_t a_bytes, out_bytes, n;
};
HalfPackedCall half_packed_call(const Napi::CallbackInfo& info, const char* fn);

// halfMatmul(a, aType, m, k, b, bType, n, transB, out, outType, bias|null, act) at info[0..11].
struct HalfRawCall {
  HalfMatmulRawArgs x;
  size_t a_bytes, b_bytes, out_bytes;
};
HalfRawCall half_raw_call(const Napi::CallbackInfo& info, const char* fn);

}  // namespace binding
}  // namespace simdtensor
