// parallel_for and the thread-count knobs, forwarded to the process-wide pool (native/runtime/core/thread_pool.cc).
#include "runtime/core/parallel.h"

#include "runtime/core/thread_pool.h"

namespace simdtensor {

int num_threads() { return ThreadPool::instance().num_threads(); }
int set_num_threads(int n) { return ThreadPool::instance().set_num_threads(n); }
int default_num_threads() { return detect_usable_cpus(); }
void parallel_for_impl(size_t n, ParallelTaskFn fn, void* ctx) { ThreadPool::instance().parallel_for(n, fn, ctx); }

}  // namespace simdtensor
