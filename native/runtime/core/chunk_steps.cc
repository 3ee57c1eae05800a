// ChunkSteps: chunks claimed dynamically by the pool's threads, each run with the record of its thread's lane.
#include "runtime/core/chunk_steps.h"

#include <atomic>
#include <cstring>
#include <utility>

#include "runtime/core/parallel.h"

namespace simdtensor {

ChunkSteps::ChunkSteps(size_t lanes, size_t chunks, size_t in_floats)
    : lanes_(lanes), chunks_(chunks), in_floats_(in_floats), steps_(lanes * chunks) {}

void ChunkSteps::add(size_t chunk, size_t lane, Step step) {
  steps_[chunk * lanes_ + lane].push_back(std::move(step));
  count_++;
}

void ChunkSteps::run(const float* x, float* stage) const {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  // One task per lane, each claiming chunks until none is left: a task index is claimed once, so no two threads
  // ever share a lane's intermediates, and a thread that is preempted simply claims fewer chunks.
  parallel_for(lanes_, [&](size_t lane) {
    for (;;) {
      const size_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_ || failed.load(std::memory_order_relaxed)) return;
      std::memcpy(stage + c * in_floats_, x + c * in_floats_, in_floats_ * sizeof(float));
      try {
        for (const Step& s : steps_[c * lanes_ + lane]) s();
      } catch (...) {
        failed.store(true, std::memory_order_relaxed);
        throw;
      }
    }
  });
}

}  // namespace simdtensor
