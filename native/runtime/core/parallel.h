// Intra-op parallelism entry point used by every kernel driver: run fn(i) for i in [0, n) on the thread pool.
#pragma once
#include <cstddef>
#include <type_traits>

namespace simdtensor {

// Number of threads an op may use (>= 1), including the calling thread.
int num_threads();
// Clamped to [1, 256]; returns the value now in effect. Process-wide (one pool serves every worker_thread).
int set_num_threads(int n);
// Default: CPUs this process may use (affinity mask and cgroup quota; SIMDTENSOR_NUM_THREADS overrides).
int default_num_threads();

using ParallelTaskFn = void (*)(void* ctx, size_t task);
// Runs task(ctx, i) for every i in [0, n) and returns when all are done. The caller participates; tasks are
// claimed dynamically, so make more tasks than threads when their cost may vary (or a core may be preempted).
// Nested calls (from inside a task) run serially. The first exception a task throws is rethrown here.
void parallel_for_impl(size_t n, ParallelTaskFn fn, void* ctx);

template <class F>
inline void parallel_for(size_t n, F&& f) {
  if (n == 0) return;
  if (n == 1 || num_threads() == 1) {
    for (size_t i = 0; i < n; i++) f(i);
    return;
  }
  parallel_for_impl(n, [](void* ctx, size_t i) { (*static_cast<std::remove_reference_t<F>*>(ctx))(i); },
                    const_cast<void*>(static_cast<const void*>(&f)));
}

// Splits [0, total) into contiguous chunks of at least `min_chunk` items (chunk starts are multiples of `align`, so
// chunks of a float array never share a cache line when align = 16) and runs f(begin, end) for each, in parallel
// when there is more than one chunk. Use for memory-bound elementwise and row-wise work.
template <class F>
inline void parallel_for_range(size_t total, size_t min_chunk, size_t align, F&& f) {
  if (total == 0) return;
  const size_t T = size_t(num_threads());
  size_t chunks = T <= 1 || total < 2 * min_chunk ? 1 : total / min_chunk;
  // A few chunks per thread balance a preempted core without shrinking chunks below min_chunk.
  if (chunks > 4 * T) chunks = 4 * T;
  if (chunks <= 1) {
    f(size_t(0), total);
    return;
  }
  if (align == 0) align = 1;
  size_t per = (total + chunks - 1) / chunks;
  per = (per + align - 1) / align * align;
  chunks = (total + per - 1) / per;
  parallel_for(chunks, [&](size_t c) {
    const size_t b = c * per, e = b + per < total ? b + per : total;
    f(b, e);
  });
}

}  // namespace simdtensor
