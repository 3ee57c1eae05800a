// Half-precision machine-limit probes: fp16 FMA (AVX512-FP16, NEON fp16), bf16 dot (vdpbf16ps) and AMX-BF16
// tile throughput, so the bench can report each half kernel as a fraction of the unit it runs on.
#pragma once
#include <cstddef>
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

enum class HalfProbeKind : int { kFp16Fma = 0, kBf16Dot = 1, kAmxBf16 = 2 };

struct HalfProbeVariant {
  const char* name;
  Isa isa;
  HalfProbeKind kind;
  // Runs `iters` iterations of independent accumulator chains; returns the flops done (2 per multiply-add).
  double (*loop)(uint64_t iters, float* sink);
};

#define ST_HALF_PROBE(sym, isa, kind) double sym(uint64_t iters, float* sink);
#include "kernels/half-probe/kernels.inc"
#undef ST_HALF_PROBE

// Compiled probes, best first within each kind; filled in cpu/dispatch.cc (may be empty on some architectures).
extern const VariantTable<HalfProbeVariant> half_probe_table;

// Best window over about `ms` milliseconds, GFLOP/s; 0 when no variant of `kind` is allowed under the cap.
double probe_half_peak(HalfProbeKind kind, double ms);

}  // namespace simdtensor
