// Timed driver for the int8 peak probes.
#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/s8-probe/s8-probe.h"

namespace simdtensor {

namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

double probe_s8_peak(bool amx, double ms, const char** which) {
  const S8ProbeVariant* v = s8_probe_table.best(field_is(&S8ProbeVariant::amx, amx));
  if (which) *which = v ? v->name : nullptr;
  if (!v) return 0.0;
  int32_t sink = 0;
  v->loop(100000, &sink);  // warm up (clock ramp, AVX-512 / AMX power license)
  std::vector<double> rates;
  const double end = now_s() + ms / 1000.0;
  do {
    const double t0 = now_s();
    const double ops = v->loop(amx ? 200000 : 1000000, &sink);
    rates.push_back(ops / (now_s() - t0) / 1e9);
  } while (now_s() < end || rates.size() < 3);
  return *std::max_element(rates.begin(), rates.end()) + (sink == 123456789 ? 1e-9 : 0.0);
}

}  // namespace simdtensor
