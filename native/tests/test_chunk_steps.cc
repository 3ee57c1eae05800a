// ChunkSteps: every chunk runs once with its lane's record, lanes never overlap, the input reaches the stage, a
// step's exception comes back to the caller.
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/core/chunk_steps.h"
#include "runtime/core/parallel.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};
}  // namespace

TEST(chunk_steps_run_each_chunk_once_with_one_lane_per_thread_at_a_time) {
  ThreadsGuard g;
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    for (size_t lanes : {size_t(1), size_t(2), size_t(3), size_t(4)})
      for (size_t chunks : {size_t(1), size_t(2), size_t(5), size_t(16), size_t(17)}) {
        const size_t in = 7;  // odd: chunk slices share cache lines
        ChunkSteps steps(lanes, chunks, in);
        std::vector<std::atomic<int>> ran(chunks), busy(lanes);
        for (auto& r : ran) r.store(0);
        for (auto& b : busy) b.store(0);
        std::vector<float> x(chunks * in), stage(chunks * in, -1.0f), seen(chunks, 0.0f);
        for (size_t i = 0; i < x.size(); i++) x[i] = float(i) + 0.5f;
        std::atomic<bool> overlap{false}, wrong_input{false};
        for (size_t c = 0; c < chunks; c++)
          for (size_t l = 0; l < lanes; l++) {
            steps.add(c, l, [&, c, l] {
              if (busy[l].fetch_add(1) != 0) overlap.store(true);
              for (size_t i = 0; i < in; i++)
                if (stage[c * in + i] != x[c * in + i]) wrong_input.store(true);
              std::this_thread::yield();
            });
            steps.add(c, l, [&, c, l] {
              seen[c] += stage[c * in];
              ran[c].fetch_add(1);
              busy[l].fetch_sub(1);
            });
          }
        CHECK(steps.steps() == 2 * chunks * lanes, "steps() %zu", steps.steps());
        CHECK(steps.total_in_floats() == chunks * in, "total_in_floats");
        steps.run(x.data(), stage.data());
        steps.run(x.data(), stage.data());  // a second run sees the same input again
        for (size_t c = 0; c < chunks; c++)
          CHECK(ran[c].load() == 2, "threads=%d lanes=%zu chunks=%zu: chunk %zu ran %d times in two runs", threads, lanes,
                chunks, c, ran[c].load());
        CHECK(!overlap.load(), "threads=%d lanes=%zu chunks=%zu: two threads in one lane", threads, lanes, chunks);
        CHECK(!wrong_input.load(), "threads=%d lanes=%zu chunks=%zu: a chunk read a stage its input did not fill", threads,
              lanes, chunks);
        for (size_t c = 0; c < chunks; c++) CHECK(seen[c] == 2 * x[c * in], "chunk %zu read %g", c, double(seen[c]));
      }
  }
}

TEST(chunk_steps_spread_chunks_over_threads) {
  ThreadsGuard g;
  set_num_threads(2);
  ChunkSteps steps(2, 8, 1);
  std::mutex mu;
  std::vector<std::thread::id> ids;
  std::atomic<int> inside{0}, max_inside{0};
  for (size_t c = 0; c < 8; c++)
    for (size_t l = 0; l < 2; l++)
      steps.add(c, l, [&] {
        const int now = inside.fetch_add(1) + 1;
        int m = max_inside.load();
        while (now > m && !max_inside.compare_exchange_weak(m, now)) {
        }
        // Wait (bounded) for the other thread: passes only if two chunks really run at once.
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        while (max_inside.load() < 2 && std::chrono::steady_clock::now() < end) std::this_thread::yield();
        inside.fetch_sub(1);
      });
  std::vector<float> x(8), stage(8);
  steps.run(x.data(), stage.data());
  CHECK(max_inside.load() == 2, "at most %d chunk(s) ran at once on two threads", max_inside.load());
}

TEST(chunk_steps_rethrow_a_step_failure_and_stop) {
  ThreadsGuard g;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    ChunkSteps steps(2, 6, 2);
    std::atomic<int> ran{0};
    for (size_t c = 0; c < 6; c++)
      for (size_t l = 0; l < 2; l++)
        steps.add(c, l, [&, c] {
          ran.fetch_add(1);
          if (c == 1) throw std::runtime_error("step failed");
        });
    std::vector<float> x(12), stage(12);
    bool caught = false;
    try {
      steps.run(x.data(), stage.data());
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "step failed";
    }
    CHECK(caught, "threads=%d: the step's exception did not reach the caller", threads);
    CHECK(ran.load() >= 2 && ran.load() <= 6, "threads=%d: %d chunks ran", threads, ran.load());
  }
}
