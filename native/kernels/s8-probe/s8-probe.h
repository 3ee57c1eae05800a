// Machine-limit probes for int8: the throughput of the dot-product unit the int8 GEMM uses (vpdpbusd zmm/ymm,
// SDOT) and of AMX-INT8 tiles (tdpbusd). The bench reports every int8 kernel as a fraction of these.
#pragma once
#include <cstdint>
#include "cpu/features.h"
#include "cpu/variant_table.h"

namespace simdtensor {

struct S8ProbeVariant {
  const char* name;
  Isa isa;
  bool amx;
  // Runs `iters` iterations of independent dot-product chains; returns the int8 ops done (2 per multiply-add).
  double (*loop)(uint64_t iters, int32_t* sink);
};

#define ST_S8_PROBE(sym, isa, amx) double sym(uint64_t iters, int32_t* sink);
#include "kernels/s8-probe/kernels.inc"
#undef ST_S8_PROBE

// Compiled probes, best first; filled in cpu/dispatch.cc. best(field_is(&S8ProbeVariant::amx, amx)) gives the
// best allowed non-AMX int8 dot-product probe (or null), or the AMX one (null unless AMX is allowed).
extern const VariantTable<S8ProbeVariant> s8_probe_table;
// GOP/s of the selected probe: the best of short windows over about `ms` milliseconds (preemption by the host
// only ever lowers a window). 0 when there is no such unit (then *which is null).
double probe_s8_peak(bool amx, double ms, const char** which);

}  // namespace simdtensor
