// Machine-limit probes: f32 FMA throughput and one core's streaming read bandwidth, per ISA.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

struct F32ProbeVariant {
  const char* name;
  Isa isa;
  // Runs `iters` iterations of independent FMA chains; returns the flop count done (2 per lane per FMA).
  double (*fma_loop)(uint64_t iters, float* sink);
  // Sums n floats with wide loads (read-only stream); returns the sum so the loads can't be dropped.
  float (*read_sum)(const float* p, size_t n);
};

#define ST_F32_PROBE(sym, isa) extern const F32ProbeVariant sym;
#include "kernels/f32-probe/kernels.inc"
#undef ST_F32_PROBE

// Compiled probes, best first; filled in cpu/dispatch.cc.
extern const VariantTable<F32ProbeVariant> f32_probe_table;

// Measures the peak for about `ms` milliseconds; GFLOP/s.
double probe_f32_peak(double ms);
// Streams a buffer of `bytes` repeatedly for about `ms` milliseconds; GB/s (median of the passes).
double probe_read_bandwidth(size_t bytes, double ms);

}  // namespace simdtensor
