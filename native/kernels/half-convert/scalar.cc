// Portable half converters: the scalar reference functions of common/half.h in a loop.
#include "common/half.h"
#include "kernels/half-convert/half-convert.h"

namespace simdtensor {

void f32_f16_cvt__scalar(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  for (size_t i = 0; i < n; i++) y[i] = f32_to_f16_scalar(x[i]);
}
void f16_f32_cvt__scalar(size_t n, const void* in, void* out) {
  const uint16_t* x = static_cast<const uint16_t*>(in);
  float* y = static_cast<float*>(out);
  for (size_t i = 0; i < n; i++) y[i] = f16_to_f32_scalar(x[i]);
}
void f32_bf16_cvt__scalar(size_t n, const void* in, void* out) {
  const float* x = static_cast<const float*>(in);
  uint16_t* y = static_cast<uint16_t*>(out);
  for (size_t i = 0; i < n; i++) y[i] = f32_to_bf16_scalar(x[i]);
}
void bf16_f32_cvt__scalar(size_t n, const void* in, void* out) {
  const uint16_t* x = static_cast<const uint16_t*>(in);
  float* y = static_cast<float*>(out);
  for (size_t i = 0; i < n; i++) y[i] = bf16_to_f32_scalar(x[i]);
}

}  // namespace simdtensor
