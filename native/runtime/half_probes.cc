// Timed driver for the half peak probes (same method as the f32 probe: best short window after a warm-up).
#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/half-probe/half-probe.h"

namespace simdtensor {
namespace {
struct Entry {
  Isa isa;
  HalfProbeKind kind;
  double (*loop)(uint64_t, float*);
};
const Entry kProbes[] = {
#define ST_HALF_PROBE(sym, isa, kind) {Isa::isa, HalfProbeKind::kind, &sym},
#include "kernels/half-probe/kernels.inc"
#undef ST_HALF_PROBE
    {Isa::kScalar, HalfProbeKind(-1), nullptr},  // keeps the array non-empty on architectures without probes
};
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

double probe_half_peak(HalfProbeKind kind, double ms) {
  const Entry* e = nullptr;
  for (const auto& p : kProbes)
    if (p.loop && p.kind == kind && isa_allowed(p.isa)) {
      e = &p;
      break;
    }
  if (!e) return 0.0;
  float sink = 0;
  e->loop(100000, &sink);  // warm up (clock ramp, wide-vector power license)
  std::vector<double> rates;
  const double end = now_s() + ms / 1000.0;
  do {
    const double t0 = now_s();
    const double flops = e->loop(1000000, &sink);
    rates.push_back(flops / (now_s() - t0) / 1e9);
  } while (now_s() < end || rates.size() < 3);
  // The best short window: preemption by the host only ever lowers a window's rate.
  return *std::max_element(rates.begin(), rates.end()) + (sink == 12345.0f ? 1e-9 : 0.0);
}

}  // namespace simdtensor
