// Intra-op parallelism entry point used by every kernel driver: run fn(i) for i in [0, n).
#pragma once
#include <cstddef>

namespace simdtensor {

// Number of threads an op may use (>= 1), including the calling thread.
int num_threads();
void set_num_threads(int n);
// Default: CPUs this process may use (affinity mask and cgroup quota).
int default_num_threads();

using ParallelTaskFn = void (*)(void* ctx, size_t task);
// Runs task(ctx, i) for every i in [0, n) and returns when all are done. The caller participates.
void parallel_for_impl(size_t n, ParallelTaskFn fn, void* ctx);

template <class F>
inline void parallel_for(size_t n, F&& f) {
  if (n == 0) return;
  if (n == 1 || num_threads() == 1) {
    for (size_t i = 0; i < n; i++) f(i);
    return;
  }
  parallel_for_impl(n, [](void* ctx, size_t i) { (*static_cast<F*>(ctx))(i); }, const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace simdtensor
