// A recorded sequence of steps run chunk by chunk, the chunks concurrently over the pool (one chunk per thread at a
// time, each chunk's steps on that thread); the batch-split head of a compiled model (src/tfjs/plan.ts).
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

namespace simdtensor {

// `chunks` chunks, each recorded once per lane: a lane is one thread's private scratch (the steps recorded for lane l
// use only lane l's intermediates), so whichever thread claims a chunk runs the copy recorded for its lane, and the
// chunks balance dynamically however the threads are scheduled. Chunk c first copies `in_floats` floats of the run's
// input at c·in_floats into the stage (a fixed buffer the recorded steps read), then runs its steps in order.
// Kernels called from a step run serially (nested parallel_for), so a chunk never waits on another thread.
class ChunkSteps {
 public:
  using Step = std::function<void()>;
  ChunkSteps(size_t lanes, size_t chunks, size_t in_floats);

  size_t lanes() const { return lanes_; }
  size_t chunks() const { return chunks_; }
  size_t in_floats() const { return in_floats_; }
  // Floats the input and the stage hold: chunks · in_floats.
  size_t total_in_floats() const { return chunks_ * in_floats_; }
  size_t steps() const { return count_; }
  // Approximate bytes held (the step records), for the GC's external-memory accounting.
  size_t bytes() const { return sizeof(*this) + count_ * (sizeof(Step) + 64); }

  // Appends a step to chunk `chunk`'s record for lane `lane` (both in range: checked by the caller).
  void add(size_t chunk, size_t lane, Step step);

  // Runs every chunk: x (total_in_floats() floats) is copied chunk by chunk into stage, which the recorded steps
  // read. The first exception a step throws is rethrown after the other lanes stop.
  void run(const float* x, float* stage) const;

 private:
  size_t lanes_, chunks_, in_floats_, count_ = 0;
  std::vector<std::vector<Step>> steps_;  // [chunk · lanes + lane]
};

}  // namespace simdtensor
