// f32 training family: activation backward, softmax cross-entropy (hard or soft targets), layernorm backward,
// optimizer updates (SGD with momentum, AdamW), dropout, transpose and row argmax.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

struct F32TrainVariant {
  const char* name;  // full symbol, e.g. "f32_train__avx512f"
  Isa isa;
  // dx = y > 0 ? dy : 0, from relu's output y (so a relu fused into the GEMM epilogue needs no pre-activation).
  void (*relu_backward)(size_t n, const float* y, const float* dy, float* dx);
  // dx = dy · gelu'(x), gelu'(x) = Φ(x) + x·φ(x) (erf form, matching the forward kernel).
  void (*gelu_backward)(size_t n, const float* x, const float* dy, float* dx);
  // Row-wise softmax cross-entropy. p = softmax(z · inv_temp). Target t is one-hot from labels[r] (hard) or the
  // row of `target` (soft). Loss per row: −log p[label] (hard) or KL(t ‖ p) = Σ t·(log t − log p) (soft).
  // grad (may be null) = (accumulate ? grad : 0) + scale·(p − t). Returns the summed loss (double).
  double (*softmax_xent)(size_t rows, size_t cols, const float* z, float inv_temp, const int32_t* labels,
                         const float* target, float scale, float* grad, bool accumulate);
  // LayerNorm backward over rows×cols (mean and rstd recomputed). gamma may be null (ones). dgamma/dbeta
  // (may be null) are overwritten with the sums over rows of dy·x̂ and dy.
  void (*layernorm_backward)(size_t rows, size_t cols, const float* x, const float* gamma, const float* dy,
                             float eps, float* dx, float* dgamma, float* dbeta);
  // SGD: g' = g + wd·w; v = momentum·v + g'; w -= lr·(nesterov ? g' + momentum·v : v). mask (may be null):
  // w *= mask afterwards (pruned weights stay zero). v may be null when momentum == 0.
  void (*sgd)(size_t n, float* w, const float* g, float* v, float lr, float momentum, float wd, bool nesterov,
              const float* mask);
  // AdamW (decoupled decay): w -= lr·wd·w; m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²;
  // w -= lr·(m/bc1)/(√(v/bc2) + eps), bc = 1 − βᵗ. mask as in sgd.
  void (*adamw)(size_t n, float* w, const float* g, float* m, float* v, float lr, float b1, float b2, float eps,
                float wd, float bc1, float bc2, const float* mask);
  // Inverted dropout: mask[i] = u(seed, i) >= p ? 1/(1−p) : 0 (u a counter-based hash in [0, 1)); out = x·mask.
  void (*dropout)(size_t n, const float* x, float p, uint64_t seed, float* mask, float* out);
  // out[c][r] = x[r][c].
  void (*transpose)(size_t rows, size_t cols, const float* x, float* out);
  // out[r] = index of the row's largest element (first one on ties; a NaN wins).
  void (*argmax)(size_t rows, size_t cols, const float* x, int32_t* out);
};

#define ST_F32_TRAIN(sym, isa) extern const F32TrainVariant sym;
#include "kernels/f32-train/kernels.inc"
#undef ST_F32_TRAIN

// Compiled variants, best first; filled in cpu/dispatch.cc.
extern const VariantTable<F32TrainVariant> f32_train_table;

// Plain scalar references (double accumulators, libm) for the tests.
extern const F32TrainVariant f32_train_reference;

// The dropout generator shared by every variant (integer-exact, so all variants draw the same mask).
inline float f32_train_uniform(uint64_t seed, uint64_t i) {
  uint32_t x = uint32_t(i) * 0x9E3779B1u ^ uint32_t(i >> 32) * 0x85EBCA77u ^ uint32_t(seed);
  x += uint32_t(seed >> 32) * 0xC2B2AE3Du;
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return float(x >> 8) * (1.0f / 16777216.0f);
}

}  // namespace simdtensor
