// The worker pool: persistent threads, spin-then-sleep waiting, dynamic task claiming, round-robin async lanes.
//
// Synchronisation in one paragraph. `mu` guards the open-job list, the lanes and the sleeper count; publishing
// work bumps `gen` under `mu`, and a worker only sleeps after re-checking `gen` under `mu`, so no wakeup is lost.
// A parallel_for job lives on its caller's stack: a helper enters it under `mu` (only while it is listed) and
// counts itself in `job.refs`; the caller delists the job when no task is left to claim and then waits for
// `refs == 0`. The last helper decrements `refs` under `done_mu` (pool-owned, so a caller returning the moment it
// sees 0 never frees a lock that is still held) and notifies `done_cv` only if the caller went to sleep.
#include "runtime/core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <time.h>
#endif
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#endif

#include "runtime/core/cpu_quota.h"

namespace simdtensor {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

using Clock = std::chrono::steady_clock;

thread_local bool t_in_task = false;     // inside a parallel_for task: nested calls run serially
thread_local bool t_pool_worker = false;

struct Job {
  ParallelTaskFn fn;
  void* ctx;
  size_t n;
  int max_helpers;            // immutable once published
  int entered = 0;            // helpers admitted so far (guarded by mu)
  bool caller_sleeping = false;  // guarded by done_mu
  std::atomic<size_t> next{0};
  std::atomic<int> refs{0};   // helpers inside the job
  std::atomic<bool> failed{false};
  std::exception_ptr error;   // written once, by whoever wins `failed`
};

// Claims and runs tasks until none is left. After a failure the remaining tasks are claimed but skipped.
void run_tasks(Job* job) {
  for (;;) {
    const size_t i = job->next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job->n) return;
    if (job->failed.load(std::memory_order_relaxed)) continue;
    try {
      job->fn(job->ctx, i);
    } catch (...) {
      bool expected = false;
      if (job->failed.compare_exchange_strong(expected, true)) job->error = std::current_exception();
    }
  }
}

struct Lane {
  uint64_t id;
  std::deque<PoolTask*> q;
};

// An integer knob from the environment: true (and *v) when the variable is set and starts with a number.
bool env_long(const char* name, long* v) {
  const char* s = std::getenv(name);
  if (!s || !*s) return false;
  char* end = nullptr;
  *v = std::strtol(s, &end, 10);
  return end != s;
}

}  // namespace

int pool_spin_us() {
  static const int us = [] {
    long v = 0;
    if (env_long("SIMDTENSOR_SPIN_US", &v) && v >= 0 && v <= 1000000) return int(v);
    // A small op pays the spin (microseconds) instead of a futex wake and a context switch (tens of µs on a VM);
    // an idle pool burns at most this much CPU per op before it sleeps.
    return 50;
  }();
  return us;
}

bool on_pool_thread() { return t_pool_worker; }

int detect_usable_cpus() {
  static const int n = [] {
    long v = 0;
    if (env_long("SIMDTENSOR_NUM_THREADS", &v) && v >= 1) return int(std::min<long>(v, ThreadPool::kMaxThreads));
    int cpus = 0;
#if defined(__linux__)
    // Dynamic set size: hosts with more than CPU_SETSIZE (1024) CPUs exist.
    for (int ncpu = 1024; ncpu <= (1 << 16) && cpus == 0; ncpu *= 4) {
      cpu_set_t* set = CPU_ALLOC(ncpu);
      if (!set) break;
      const size_t sz = CPU_ALLOC_SIZE(ncpu);
      CPU_ZERO_S(sz, set);
      if (sched_getaffinity(0, sz, set) == 0) cpus = CPU_COUNT_S(sz, set);
      CPU_FREE(set);
      if (cpus == 0 && errno != EINVAL) break;
    }
#endif
    if (cpus <= 0) cpus = int(std::thread::hardware_concurrency());
    if (cpus <= 0) cpus = 1;
    const double quota = cgroup_cpu_limit();
    if (quota > 0) cpus = std::min(cpus, std::max(1, int(quota + 0.999)));  // a 1.5-CPU quota still uses 2 threads
    return std::min(cpus, ThreadPool::kMaxThreads);
  }();
  return n;
}

struct ThreadPool::Impl {
  mutable std::mutex mu;
  std::vector<Job*> jobs;
  std::deque<Lane> lanes;  // non-empty lanes only; the front one is served next
  size_t queued = 0;
  int sleepers = 0;
  std::vector<std::thread> workers;  // never joined: the pool outlives main()

  // One slot per worker, so a publisher wakes exactly the workers allowed to take work (index < num_threads).
  struct Slot {
    std::condition_variable cv;
    bool sleeping = false;              // guarded by mu; cleared by the publisher that wakes it
    std::atomic<bool> spinning{false};
  };
  std::unique_ptr<Slot[]> slots{new Slot[kMaxThreads]};

  std::atomic<uint64_t> gen{0};
  std::atomic<int> nthreads{1};
  std::atomic<int> spinning{0};  // for stats only
  std::atomic<uint64_t> jobs_split{0}, helper_joins{0}, tasks_run{0};

  std::mutex done_mu;
  std::condition_variable done_cv;

  mutable std::mutex spawn_mu;

  // Under mu: picks sleepers to wake for `need` units of new work, minus the eligible workers already spinning
  // (they will see `gen`). Lowest indices first, so small ops keep reusing the same warm workers.
  int pick_sleepers(int need, int* out) {
    const int T = nthreads.load(std::memory_order_relaxed);
    const int nw = int(worker_count.load(std::memory_order_relaxed));
    const int lim = std::min(T, nw);
    for (int i = 0; i < lim && need > 0; i++)
      if (slots[i].spinning.load(std::memory_order_relaxed)) need--;
    int k = 0;
    for (int i = 0; i < lim && k < need; i++) {
      if (!slots[i].sleeping) continue;
      slots[i].sleeping = false;
      sleepers--;
      out[k++] = i;
    }
    return k;
  }
  void notify(const int* idx, int k) {
    for (int i = 0; i < k; i++) slots[idx[i]].cv.notify_one();
  }

  // Makes sure workers [0, want) exist. Called outside `mu`.
  void ensure_workers(int want) {
    if (int(worker_count.load(std::memory_order_acquire)) >= want) return;
    std::lock_guard<std::mutex> sl(spawn_mu);
    while (int(workers.size()) < want) {
      const int idx = int(workers.size());
      try {
        workers.emplace_back([this, idx] { worker_main(idx); });
      } catch (const std::exception&) {
        // Thread creation failed (limits): run with what we have.
        nthreads.store(std::max(1, idx), std::memory_order_release);
        break;
      }
      worker_count.store(workers.size(), std::memory_order_release);
    }
  }
  std::atomic<size_t> worker_count{0};

  // Under mu: a job to help or a task to run, for worker `idx`.
  bool find_work(int idx, Job** job, PoolTask** task) {
    if (idx >= nthreads.load(std::memory_order_relaxed)) return false;
    for (Job* j : jobs) {
      if (j->entered < j->max_helpers && j->next.load(std::memory_order_relaxed) < j->n) {
        j->entered++;
        j->refs.fetch_add(1, std::memory_order_relaxed);
        *job = j;
        return true;
      }
    }
    if (!lanes.empty()) {
      Lane lane = std::move(lanes.front());
      lanes.pop_front();
      *task = lane.q.front();
      lane.q.pop_front();
      queued--;
      if (!lane.q.empty()) lanes.push_back(std::move(lane));  // round-robin: this lane goes to the back
      return true;
    }
    return false;
  }

  void exit_job(Job* job) {
    bool notify;
    {
      std::lock_guard<std::mutex> lk(done_mu);
      // Read the flag before the decrement: a spinning caller may return (and its stack frame die) the moment
      // refs reaches 0. A sleeping caller sets it under done_mu, so it cannot change in between.
      const bool sleeping = job->caller_sleeping;
      notify = job->refs.fetch_sub(1, std::memory_order_acq_rel) == 1 && sleeping;
    }
    // `job` may be gone from here on.
    if (notify) done_cv.notify_all();
  }

  void worker_main(int idx) {
    t_pool_worker = true;
#if defined(__linux__)
    char name[16];
    std::snprintf(name, sizeof name, "simdtensor-%d", idx);
    pthread_setname_np(pthread_self(), name);
#endif
    const auto spin = std::chrono::microseconds(pool_spin_us());
    for (;;) {
      Job* job = nullptr;
      PoolTask* task = nullptr;
      uint64_t seen = 0;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (!find_work(idx, &job, &task)) seen = gen.load(std::memory_order_relaxed);
      }
      if (job) {
        helper_joins.fetch_add(1, std::memory_order_relaxed);
        t_in_task = true;
        run_tasks(job);
        t_in_task = false;
        exit_job(job);
        continue;
      }
      if (task) {
        task->run();
        delete task;
        tasks_run.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      // Spin for new work, then sleep. Workers past num_threads() sleep at once: a spinner that may not take work
      // would make publishers skip a wakeup that an eligible sleeper needs.
      bool changed = false;
      Slot& slot = slots[idx];
      if (spin.count() > 0 && idx < nthreads.load(std::memory_order_relaxed)) {
        slot.spinning.store(true, std::memory_order_relaxed);
        spinning.fetch_add(1, std::memory_order_relaxed);
        const auto deadline = Clock::now() + spin;
        do {
          for (int i = 0; i < 64; i++) {
            if (gen.load(std::memory_order_acquire) != seen) {
              changed = true;
              break;
            }
            cpu_relax();
          }
        } while (!changed && Clock::now() < deadline);
        spinning.fetch_sub(1, std::memory_order_relaxed);
        slot.spinning.store(false, std::memory_order_relaxed);
      }
      if (changed) continue;
      std::unique_lock<std::mutex> lk(mu);
      while (gen.load(std::memory_order_relaxed) == seen) {
        slot.sleeping = true;
        sleepers++;
        slot.cv.wait(lk);
        if (slot.sleeping) {  // spurious wakeup: nobody picked this slot
          slot.sleeping = false;
          sleepers--;
        }
      }
    }
  }
};

ThreadPool& ThreadPool::instance() {
  // Leaked on purpose: exit() must not run a destructor that joins (or frees state used by) running workers.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() : impl_(new Impl) { impl_->nthreads.store(detect_usable_cpus()); }

int ThreadPool::num_threads() const { return impl_->nthreads.load(std::memory_order_relaxed); }

int ThreadPool::set_num_threads(int n) {
  n = std::max(1, std::min(n, kMaxThreads));
  Impl& p = *impl_;
  p.nthreads.store(n, std::memory_order_release);
  // Eligible sleepers re-check for work (queued tasks may now be theirs); more are created on the next job.
  int wake[kMaxThreads];
  int k;
  {
    std::lock_guard<std::mutex> lk(p.mu);
    p.gen.fetch_add(1, std::memory_order_release);
    k = p.pick_sleepers(kMaxThreads, wake);
  }
  p.notify(wake, k);
  return num_threads();
}

void ThreadPool::parallel_for(size_t n, ParallelTaskFn fn, void* ctx) {
  if (n == 0) return;
  Impl& p = *impl_;
  const int T = p.nthreads.load(std::memory_order_relaxed);
  if (n == 1 || T <= 1 || t_in_task) {
    const bool was = t_in_task;
    t_in_task = true;
    try {
      for (size_t i = 0; i < n; i++) fn(ctx, i);
    } catch (...) {
      t_in_task = was;
      throw;
    }
    t_in_task = was;
    return;
  }
  // A pool worker running an async op is a caller like any other; T workers exist so it can get T-1 helpers.
  p.ensure_workers(T);
  Job job;
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.max_helpers = int(std::min<size_t>(size_t(T - 1), n - 1));
  int wake[kMaxThreads];
  int k;
  {
    std::lock_guard<std::mutex> lk(p.mu);
    p.jobs.push_back(&job);
    p.gen.fetch_add(1, std::memory_order_release);
    k = p.pick_sleepers(job.max_helpers, wake);
  }
  p.notify(wake, k);
  p.jobs_split.fetch_add(1, std::memory_order_relaxed);

  t_in_task = true;
  run_tasks(&job);
  t_in_task = false;
  {
    std::lock_guard<std::mutex> lk(p.mu);
    p.jobs.erase(std::find(p.jobs.begin(), p.jobs.end(), &job));
  }
  // Every task is claimed; wait for helpers still finishing theirs. Spin first: the tail is usually short.
  if (job.refs.load(std::memory_order_acquire) != 0) {
    const auto deadline = Clock::now() + std::chrono::microseconds(pool_spin_us());
    bool done = false;
    do {
      for (int i = 0; i < 64; i++) {
        if (job.refs.load(std::memory_order_acquire) == 0) {
          done = true;
          break;
        }
        cpu_relax();
      }
    } while (!done && Clock::now() < deadline);
    if (!done) {
      std::unique_lock<std::mutex> lk(p.done_mu);
      job.caller_sleeping = true;
      p.done_cv.wait(lk, [&] { return job.refs.load(std::memory_order_acquire) == 0; });
    }
  }
  if (job.error) std::rethrow_exception(job.error);
}

void ThreadPool::submit(uint64_t lane, std::unique_ptr<PoolTask> task) {
  Impl& p = *impl_;
  p.ensure_workers(p.nthreads.load(std::memory_order_relaxed));
  int wake[kMaxThreads];
  int k;
  {
    std::lock_guard<std::mutex> lk(p.mu);
    auto it = std::find_if(p.lanes.begin(), p.lanes.end(), [&](const Lane& l) { return l.id == lane; });
    if (it == p.lanes.end()) {
      p.lanes.push_back(Lane{lane, {}});
      it = p.lanes.end() - 1;
    }
    it->q.push_back(task.release());
    p.queued++;
    p.gen.fetch_add(1, std::memory_order_release);
    k = p.pick_sleepers(int(std::min<size_t>(p.queued, size_t(kMaxThreads))), wake);
  }
  p.notify(wake, k);
}

std::unique_ptr<PoolTask> ThreadPool::cancel(const PoolTask* task) {
  Impl& p = *impl_;
  std::lock_guard<std::mutex> lk(p.mu);
  for (auto l = p.lanes.begin(); l != p.lanes.end(); ++l) {
    auto it = std::find(l->q.begin(), l->q.end(), task);
    if (it == l->q.end()) continue;
    PoolTask* t = *it;
    l->q.erase(it);
    p.queued--;
    if (l->q.empty()) p.lanes.erase(l);
    return std::unique_ptr<PoolTask>(t);
  }
  return nullptr;
}

std::vector<std::unique_ptr<PoolTask>> ThreadPool::cancel_lane(uint64_t lane) {
  Impl& p = *impl_;
  std::vector<std::unique_ptr<PoolTask>> out;
  std::lock_guard<std::mutex> lk(p.mu);
  auto l = std::find_if(p.lanes.begin(), p.lanes.end(), [&](const Lane& x) { return x.id == lane; });
  if (l == p.lanes.end()) return out;
  for (PoolTask* t : l->q) out.emplace_back(t);
  p.queued -= l->q.size();
  p.lanes.erase(l);
  return out;
}

uint64_t thread_cpu_ns() {
#if defined(__linux__)
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
#endif
  return 0;
}

std::vector<uint64_t> ThreadPool::worker_cpu_ns() const {
  std::vector<uint64_t> out;
#if defined(__linux__)
  std::lock_guard<std::mutex> sl(impl_->spawn_mu);
  for (auto& t : impl_->workers) {
    clockid_t cid;
    timespec ts;
    std::thread& th = const_cast<std::thread&>(t);
    if (pthread_getcpuclockid(th.native_handle(), &cid) == 0 && clock_gettime(cid, &ts) == 0)
      out.push_back(uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec));
    else
      out.push_back(0);
  }
#endif
  return out;
}

PoolStats ThreadPool::stats() const {
  const Impl& p = *impl_;
  PoolStats s;
  std::lock_guard<std::mutex> lk(p.mu);
  s.threads = p.nthreads.load();
  s.workers = int(p.worker_count.load());
  s.queued_tasks = p.queued;
  s.active_jobs = p.jobs.size();
  s.jobs_split = p.jobs_split.load();
  s.helper_joins = p.helper_joins.load();
  s.tasks_run = p.tasks_run.load();
  s.sleeping = p.sleepers;
  s.spinning = p.spinning.load();
  return s;
}

}  // namespace simdtensor
