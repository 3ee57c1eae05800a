// The M×N task grid shared by the GEMM drivers (f32, int8, half): how one call is split over the thread pool.
#pragma once
#include <algorithm>
#include <cstddef>

#include "runtime/core/parallel.h"

namespace simdtensor {

// Tasks are rows [im·rows_per, …) × columns [in·cols_per, …) for im < tm, in < tn (the last ones shorter).
struct GemmGrid {
  size_t rows_per, cols_per;  // multiples of mr (unless tm == 1) and of nr
  size_t tm, tn;
};

// For a driver whose tasks share prepacked B panels and pack their own A rows (MR×NR microkernel, `small_m` = the
// M at or below which A is packed whole). `ops` = 2·m·n·k; below `min_parallel_ops` the grid is one task.
//  * up to 8 tasks per thread (≥ ~1 M ops each): tasks are claimed dynamically, so a slow or preempted core costs
//    at most one task;
//  * M first, in chunks down to 2·MR rows; N too only when M runs out of chunks (~2 tasks per thread: each N chunk
//    repacks its A rows), and in up to 4 tasks per thread when M ≤ small_m (A is tiny, the op bandwidth-bound).
GemmGrid gemm_grid(size_t m, size_t n, double ops, size_t mr, size_t nr, size_t small_m, size_t threads,
                   double min_parallel_ops);

// The small-M drivers (int8, half): threads split whole B panels, each walked once. Below ~4 M ops (2·m·n·k) one
// task (a pool hand-off costs more than it saves), else up to 4 per thread. f(p) runs once for each panel p.
template <class F>
void parallel_panels(size_t panels, double ops, F&& f) {
  const size_t threads = size_t(num_threads());
  const size_t tasks = ops < 4e6 || threads <= 1 ? 1 : std::min(panels, threads * 4);
  const size_t per = (panels + tasks - 1) / tasks;
  parallel_for(tasks, [&](size_t t) {
    for (size_t p = t * per, p1 = std::min(panels, (t + 1) * per); p < p1; p++) f(p);
  });
}

}  // namespace simdtensor
