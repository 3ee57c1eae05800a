// The process-wide pool of persistent worker threads: intra-op parallel_for jobs and queued top-level (async) tasks.
//
// One pool serves every napi_env (main thread and every worker_thread), so N workers each running an op share the
// machine's cores instead of each spawning its own threads. Workers are created on first use and never destroyed:
// the pool object is deliberately leaked so that process exit never joins (or races) a busy worker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace simdtensor {

// A top-level task run by a pool worker (an async op). run() must not throw; it may call parallel_for, in which
// case the worker running it is the job's caller and other idle workers help.
class PoolTask {
 public:
  virtual ~PoolTask() = default;
  virtual void run() noexcept = 0;
};

struct PoolStats {
  int threads;           // current num_threads()
  int workers;           // worker threads created so far (>= threads once any work ran)
  size_t queued_tasks;   // submitted top-level tasks not yet started
  size_t active_jobs;    // parallel_for jobs open right now
  uint64_t jobs_split;   // parallel_for calls that were shared with workers (lifetime)
  uint64_t helper_joins; // times a worker entered someone's job (lifetime)
  uint64_t tasks_run;    // top-level tasks run (lifetime)
  int sleeping;          // workers blocked on the condition variable right now
  int spinning;          // workers in their spin window right now
};

using ParallelTaskFn = void (*)(void* ctx, size_t task);

class ThreadPool {
 public:
  static ThreadPool& instance();

  int num_threads() const;
  // Clamped to [1, kMaxThreads]; workers are added on demand, surplus ones sleep.
  int set_num_threads(int n);

  // Runs fn(ctx, i) for i in [0, n); the caller runs tasks too and returns when all are done. Called from inside a
  // task (nested), or with one thread, it runs serially on the caller. The first exception thrown by a task is
  // rethrown here after every task has finished.
  void parallel_for(size_t n, ParallelTaskFn fn, void* ctx);

  // Queues a top-level task. Lanes (one per napi_env) are served round-robin, FIFO within a lane, so one
  // worker_thread flooding the pool cannot starve another.
  void submit(uint64_t lane, std::unique_ptr<PoolTask> task);
  // Removes `task` if it has not started; returns it (ownership back to the caller) or null.
  std::unique_ptr<PoolTask> cancel(const PoolTask* task);
  // Removes every queued task of `lane` (env teardown) and returns them.
  std::vector<std::unique_ptr<PoolTask>> cancel_lane(uint64_t lane);

  PoolStats stats() const;
  // CPU time (ns) each worker thread has used so far, by worker index (empty where the OS cannot tell).
  std::vector<uint64_t> worker_cpu_ns() const;

  static constexpr int kMaxThreads = 256;

 private:
  ThreadPool();
  struct Impl;
  Impl* impl_;
};

// CPU time (ns) the calling thread has used so far (0 where the OS cannot tell).
uint64_t thread_cpu_ns();

// True on a pool worker thread (tests; the binding refuses to block such a thread).
bool on_pool_thread();

// The spin window (µs) a worker polls for new work before sleeping; SIMDTENSOR_SPIN_US overrides the default.
int pool_spin_us();

// CPUs this process may use: the affinity mask, capped by the cgroup CPU quota (v2 cpu.max or v1 cfs quota),
// and SIMDTENSOR_NUM_THREADS when set. Always >= 1.
int detect_usable_cpus();

}  // namespace simdtensor
