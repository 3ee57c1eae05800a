// The shared GEMM task grid (see gemm_partition.h for the rules and why).
#include "runtime/core/gemm_partition.h"

#include <algorithm>

namespace simdtensor {

namespace {
inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
}  // namespace

GemmGrid gemm_grid(size_t m, size_t n, double ops, size_t mr, size_t nr, size_t small_m, size_t threads,
                   double min_parallel_ops) {
  GemmGrid g{m, ceil_div(n, nr) * nr, 1, 1};
  if (m == 0 || n == 0 || threads <= 1 || ops < min_parallel_ops) return g;
  const size_t m_units = ceil_div(m, mr), n_units = ceil_div(n, nr);
  // Up to 8 tasks per thread: the threads finish within about one small task of each other (a thread idles, then
  // sleeps, for half a task on average at the end of every op).
  const size_t want = std::min<size_t>(8 * threads, std::max<size_t>(threads, size_t(ops / 1e6)));
  size_t tm, tn;
  if (m <= small_m) {
    // Bandwidth-bound and uniform: 4 tasks per thread balance it; finer ones measured slower (int8 GEMV 0.84× at
    // 2 threads with 8 per thread, 1.26× with 4).
    tm = 1;
    tn = std::min(std::min<size_t>(want, 4 * threads), std::max<size_t>(1, n_units / 2));
  } else {
    // Row chunks of 2·MR still reuse each B micro-panel across two MR tiles while it is in L1; streaming it from
    // L2 for every second tile needs ~25 GB/s per core, far below L2 bandwidth.
    const size_t m_chunks_max = ceil_div(m, std::min(m, 2 * mr));
    if (m_chunks_max >= threads) {
      tm = std::min(m_chunks_max, want);
      tn = 1;
    } else {
      tm = m_chunks_max;
      tn = std::min(ceil_div(2 * threads, tm), std::max<size_t>(1, n_units / 2));
    }
  }
  g.rows_per = ceil_div(m_units, tm) * mr;
  const size_t panels_per = ceil_div(n_units, tn);
  g.cols_per = panels_per * nr;
  g.tm = ceil_div(m, g.rows_per);
  g.tn = ceil_div(n_units, panels_per);
  return g;
}

}  // namespace simdtensor
