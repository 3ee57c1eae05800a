// Timed drivers for the machine-limit probes (the bench reports every kernel as a fraction of these).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "kernels/f32-probe/f32-probe.h"
#include "runtime/core/aligned.h"

namespace simdtensor {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

double probe_f32_peak(double ms) {
  const F32ProbeVariant& v = f32_probe_table.select();
  float sink = 0;
  v.fma_loop(100000, &sink);  // warm up (clock ramp, AVX-512 license)
  std::vector<double> rates;
  const double end = now_s() + ms / 1000.0;
  do {
    const double t0 = now_s();
    const double flops = v.fma_loop(2000000, &sink);
    rates.push_back(flops / (now_s() - t0) / 1e9);
  } while (now_s() < end || rates.size() < 3);
  // The best short window: preemption by the host only ever lowers a window's rate.
  return *std::max_element(rates.begin(), rates.end()) + (sink == 12345.0f ? 1e-9 : 0.0);
}

double probe_read_bandwidth(size_t bytes, double ms) {
  const size_t n = std::max<size_t>(bytes / sizeof(float), 1024);
  auto buf = aligned_alloc_array<float>(n);
  for (size_t i = 0; i < n; i++) buf[i] = float(i & 1023) * 1e-3f;
  const F32ProbeVariant& v = f32_probe_table.select();
  volatile float sink = v.read_sum(buf.get(), n);  // touch every page first
  std::vector<double> rates;
  const double end = now_s() + ms / 1000.0;
  do {
    const double t0 = now_s();
    sink = sink + v.read_sum(buf.get(), n);
    rates.push_back(double(n) * sizeof(float) / (now_s() - t0) / 1e9);
  } while (now_s() < end || rates.size() < 3);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace simdtensor
