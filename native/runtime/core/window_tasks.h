// How the windowed-op drivers (depthwise conv, pooling, resize) split output rows into tasks for the pool.
#pragma once
#include <cstddef>
#include "runtime/core/parallel.h"

namespace simdtensor {

// A task should do at least this much work (multiply-adds or element loads) so handing it to another core is worth
// it: the SIMD kernels get through 131072 in ~5-10 µs, less than a pool hand-off costs on a loaded 2-core VM (cls,
// issue #16: every depthwise conv and the max pool ran slower on two threads than on one at 131072).
constexpr double kWindowTaskMinCost = 524288;

// Output rows per task for `units` independent images or planes of `rows` rows each, `row_cost` work per row:
// about four tasks per thread (a preempted core is balanced by the others) but never below the minimum cost.
inline size_t window_rows_per_task(size_t rows, size_t units, double row_cost) {
  const size_t T = size_t(num_threads());
  if (rows == 0) return 1;
  if (T <= 1) return rows;
  const size_t want = 4 * T;
  size_t bands = units >= want ? 1 : (want + units - 1) / units;
  size_t per = (rows + bands - 1) / bands;
  const double min_rows = row_cost > 0 ? kWindowTaskMinCost / row_cost : double(rows);
  if (double(per) < min_rows) per = min_rows >= double(rows) ? rows : size_t(min_rows) + 1;
  return per > rows ? rows : per;
}

// Runs fn(unit, r0, r1) for every band [r0, r1) of window_rows_per_task rows of each of `units` images or planes, as
// units × bands pool tasks (task i: unit i / bands, band i % bands).
template <class Fn>
void parallel_window_rows(size_t rows, size_t units, double row_cost, const Fn& fn) {
  // The whole op below two tasks' worth: no threads, however many units (NCHW planes) it has.
  if (num_threads() <= 1 || double(rows) * double(units) * row_cost < 2 * kWindowTaskMinCost) {
    for (size_t u = 0; u < units; u++) fn(u, size_t(0), rows);
    return;
  }
  const size_t per = window_rows_per_task(rows, units, row_cost);
  const size_t bands = (rows + per - 1) / per;
  parallel_for(units * bands, [&](size_t i) {
    const size_t r0 = (i % bands) * per;
    fn(i / bands, r0, r0 + per < rows ? r0 + per : rows);
  });
}

}  // namespace simdtensor
