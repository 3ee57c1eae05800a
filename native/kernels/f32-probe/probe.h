// Probe loops written once over vector traits V (instantiated per ISA).
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/f32-probe/f32-probe.h"

namespace simdtensor {
namespace {

// Read-probe prefetch distance (see read_sum).
constexpr size_t kReadAheadBytes = 16384;

// CHAINS independent accumulators: more than latency × pipes (4 × 2) on every core we target, and with the two
// constants no more than the ISA has registers. 16 chains suit the 32-register ISAs (AVX-512, NEON); AVX2 has 16
// ymm registers, where 16 chains spilled three accumulators to the stack every iteration and the store-to-load
// round trip bounded the loop: its probe read 69 GFLOP/s on Zen 5 while the AVX2 GEMM ran at 102 (148 % of that
// "peak"). 12 chains stay in registers.
template <class V, int CHAINS = 16>
struct Probe {
  using R = typename V::R;
  static double fma_loop(uint64_t iters, float* sink) {
    R acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = V::set1(float(i) * 1e-3f);
    const R b = V::set1(0.999999f), c = V::set1(1e-7f);
    for (uint64_t it = 0; it < iters; it++) {
      for (int i = 0; i < CHAINS; i++) acc[i] = V::fmadd(acc[i], b, c);
    }
    R s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = V::add(s, acc[i]);
    *sink = V::hsum(s);
    return double(iters) * CHAINS * 2.0 * V::W;
  }
  static float read_sum(const float* p, size_t n) {
    R a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    constexpr size_t W = size_t(V::W);
    size_t i = 0;
    // Software prefetch kReadAhead bytes ahead, every 64-byte line: one core's streaming bandwidth is bounded by the
    // misses it keeps in flight (Little's law), and the GEMM kernels streaming weights prefetch this far too, so
    // the probe measures what a kernel can attain rather than what the hardware prefetcher alone sustains.
    constexpr size_t kAhead = kReadAheadBytes / sizeof(float);
    for (; i + 4 * W + kAhead <= n; i += 4 * W) {
      for (size_t l = 0; l < 4 * W * sizeof(float); l += 64) V::prefetch(p + i + kAhead + l / sizeof(float));
      a0 = V::add(a0, V::load(p + i));
      a1 = V::add(a1, V::load(p + i + W));
      a2 = V::add(a2, V::load(p + i + 2 * W));
      a3 = V::add(a3, V::load(p + i + 3 * W));
    }
    for (; i + 4 * W <= n; i += 4 * W) {
      a0 = V::add(a0, V::load(p + i));
      a1 = V::add(a1, V::load(p + i + W));
      a2 = V::add(a2, V::load(p + i + 2 * W));
      a3 = V::add(a3, V::load(p + i + 3 * W));
    }
    float s = V::hsum(V::add(V::add(a0, a1), V::add(a2, a3)));
    for (; i < n; i++) s += p[i];
    return s;
  }
  static constexpr F32ProbeVariant make(const char* name, Isa isa) { return {name, isa, &fma_loop, &read_sum}; }
};

}  // namespace
}  // namespace simdtensor
