// Serial placeholder for the thread pool: one thread. (Replaced by the pool of native/runtime/thread_pool.cc.)
#include "runtime/parallel.h"

namespace simdtensor {

int num_threads() { return 1; }
void set_num_threads(int) {}
int default_num_threads() { return 1; }
void parallel_for_impl(size_t n, ParallelTaskFn fn, void* ctx) {
  for (size_t i = 0; i < n; i++) fn(ctx, i);
}

}  // namespace simdtensor
