// The thread pool: coverage, nesting, exceptions, concurrent callers, round-robin lanes, cancel, sleep, CPU quota.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "runtime/core/cpu_quota.h"
#include "runtime/core/parallel.h"
#include "runtime/core/thread_pool.h"
#include "tests/harness.h"

using namespace simdtensor;

namespace {
// Restores the thread count a test changed.
struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

bool covers_once(size_t n) {
  std::vector<std::atomic<int>> hits(n);
  for (auto& h : hits) h.store(0);
  parallel_for(n, [&](size_t i) { hits[i].fetch_add(1); });
  for (size_t i = 0; i < n; i++)
    if (hits[i].load() != 1) {
      std::fprintf(stderr, "  n=%zu: task %zu ran %d times\n", n, i, hits[i].load());
      return false;
    }
  return true;
}

// A task that records its tag and optionally blocks until released.
struct TagTask : PoolTask {
  std::vector<int>* order;
  std::mutex* mu;
  std::atomic<int>* done;
  int tag;
  std::atomic<bool>* gate;
  TagTask(std::vector<int>* o, std::mutex* m, std::atomic<int>* d, int t, std::atomic<bool>* g = nullptr)
      : order(o), mu(m), done(d), tag(t), gate(g) {}
  void run() noexcept override {
    if (gate)
      while (!gate->load()) std::this_thread::sleep_for(std::chrono::microseconds(50));
    {
      std::lock_guard<std::mutex> lk(*mu);
      order->push_back(tag);
    }
    done->fetch_add(1);
  }
};

bool wait_for(const std::atomic<int>& v, int want, int seconds = 20) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (v.load() < want) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}
}  // namespace

TEST(pool_parallel_for_runs_every_task_once_for_1_to_8_threads) {
  ThreadsGuard g;
  for (int t = 1; t <= 8; t++) {
    CHECK(set_num_threads(t) == t, "set_num_threads(%d)", t);
    CHECK(num_threads() == t, "num_threads after set %d", t);
    for (size_t n : {0, 1, 2, 3, 7, 8, 9, 31, 64, 1000, 4099}) CHECK(covers_once(n), "threads=%d n=%zu", t, n);
  }
}

TEST(pool_set_num_threads_clamps) {
  ThreadsGuard g;
  CHECK(set_num_threads(0) == 1, "0 -> 1");
  CHECK(set_num_threads(-5) == 1, "-5 -> 1");
  CHECK(set_num_threads(100000) == ThreadPool::kMaxThreads, "clamped to max");
  const int d = default_num_threads();
  CHECK(d >= 1 && d <= ThreadPool::kMaxThreads, "default %d", d);
  CHECK(d <= int(std::thread::hardware_concurrency()) || std::getenv("SIMDTENSOR_NUM_THREADS"),
        "default %d exceeds hardware_concurrency", d);
}

TEST(pool_work_really_spreads_over_threads) {
  ThreadsGuard g;
  set_num_threads(4);
  // Tasks that wait until at least two distinct threads are inside: passes only if helpers really join.
  std::atomic<int> inside{0}, max_inside{0};
  std::mutex mu;
  std::vector<std::thread::id> ids;
  parallel_for(4, [&](size_t) {
    const int now = inside.fetch_add(1) + 1;
    int m = max_inside.load();
    while (now > m && !max_inside.compare_exchange_weak(m, now)) {
    }
    {
      std::lock_guard<std::mutex> lk(mu);
      ids.push_back(std::this_thread::get_id());
    }
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (max_inside.load() < 2 && std::chrono::steady_clock::now() < end) std::this_thread::yield();
    inside.fetch_sub(1);
  });
  CHECK(max_inside.load() >= 2, "only %d task(s) ever ran at once", max_inside.load());
}

TEST(pool_nested_parallel_for_runs_serially_and_completes) {
  ThreadsGuard g;
  set_num_threads(4);
  std::atomic<size_t> sum{0};
  parallel_for(16, [&](size_t i) {
    std::thread::id outer = std::this_thread::get_id();
    bool same = true;
    parallel_for(8, [&](size_t j) {
      same &= std::this_thread::get_id() == outer;
      sum.fetch_add(i * 8 + j);
    });
    if (!same) sum.fetch_add(size_t(1) << 40);
  });
  const size_t n = 16 * 8;
  CHECK(sum.load() == n * (n - 1) / 2, "sum %zu (a nested task ran on another thread?)", sum.load());
}

TEST(pool_exception_propagates_and_pool_stays_usable) {
  ThreadsGuard g;
  for (int t : {1, 2, 4}) {
    set_num_threads(t);
    bool caught = false;
    try {
      parallel_for(100, [&](size_t i) {
        if (i == 37) throw std::runtime_error("task 37 failed");
      });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "task 37 failed";
    }
    CHECK(caught, "threads=%d: exception not rethrown", t);
    CHECK(covers_once(1000), "threads=%d: pool unusable after an exception", t);
  }
}

TEST(pool_concurrent_callers_from_many_threads) {
  ThreadsGuard g;
  set_num_threads(4);
  std::atomic<int> bad{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 6; c++)
    callers.emplace_back([&, c] {
      for (int r = 0; r < 150; r++) {
        const size_t n = size_t(1 + (c * 131 + r * 17) % 257);
        std::vector<int> hits(n, 0);
        parallel_for(n, [&](size_t i) { hits[i]++; });
        for (size_t i = 0; i < n; i++)
          if (hits[i] != 1) bad.fetch_add(1);
      }
    });
  for (auto& t : callers) t.join();
  CHECK(bad.load() == 0, "%d tasks ran a wrong number of times", bad.load());
}

TEST(pool_lanes_are_served_round_robin) {
  ThreadsGuard g;
  set_num_threads(1);  // one worker: the serving order is exactly the queue order
  ThreadPool& pool = ThreadPool::instance();
  std::vector<int> order;
  std::mutex mu;
  std::atomic<int> done{0};
  std::atomic<bool> gate{false};
  pool.submit(900, std::make_unique<TagTask>(&order, &mu, &done, -1, &gate));  // holds the worker
  // Let the worker pick the gate task before queueing the rest.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.stats().queued_tasks != 0 && std::chrono::steady_clock::now() < end) std::this_thread::yield();
  for (int i = 0; i < 6; i++) pool.submit(901, std::make_unique<TagTask>(&order, &mu, &done, 100 + i));
  for (int i = 0; i < 3; i++) pool.submit(902, std::make_unique<TagTask>(&order, &mu, &done, 200 + i));
  gate.store(true);
  CHECK(wait_for(done, 10), "tasks did not all run (%d)", done.load());
  const std::vector<int> want = {-1, 100, 200, 101, 201, 102, 202, 103, 104, 105};
  std::string got;
  for (int v : order) got += std::to_string(v) + " ";
  CHECK(order == want, "order: %s", got.c_str());
}

TEST(pool_cancel_returns_queued_tasks_only) {
  ThreadsGuard g;
  set_num_threads(1);
  ThreadPool& pool = ThreadPool::instance();
  std::vector<int> order;
  std::mutex mu;
  std::atomic<int> done{0};
  std::atomic<bool> gate{false};
  auto gate_task = std::make_unique<TagTask>(&order, &mu, &done, -1, &gate);
  const PoolTask* gate_ptr = gate_task.get();
  pool.submit(910, std::move(gate_task));
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.stats().queued_tasks != 0 && std::chrono::steady_clock::now() < end) std::this_thread::yield();
  auto a = std::make_unique<TagTask>(&order, &mu, &done, 1);
  auto b = std::make_unique<TagTask>(&order, &mu, &done, 2);
  const PoolTask* a_ptr = a.get();
  pool.submit(911, std::move(a));
  pool.submit(912, std::move(b));
  for (int i = 0; i < 3; i++) pool.submit(913, std::make_unique<TagTask>(&order, &mu, &done, 30 + i));
  CHECK(pool.cancel(gate_ptr) == nullptr, "a running task must not be cancellable");
  auto back = pool.cancel(a_ptr);
  CHECK(back && back.get() == a_ptr, "queued task not returned by cancel");
  auto lane = pool.cancel_lane(913);
  CHECK(lane.size() == 3, "cancel_lane returned %zu", lane.size());
  CHECK(pool.cancel_lane(913).empty(), "lane not emptied");
  gate.store(true);
  CHECK(wait_for(done, 2), "remaining tasks did not run");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(done.load() == 2 && order.size() == 2 && order[1] == 2, "cancelled tasks ran (done=%d)", done.load());
}

TEST(pool_tasks_can_use_parallel_for_and_run_concurrently) {
  ThreadsGuard g;
  set_num_threads(3);
  ThreadPool& pool = ThreadPool::instance();
  struct SumTask : PoolTask {
    std::atomic<int>* bad;
    std::atomic<int>* done;
    size_t n;
    SumTask(std::atomic<int>* b, std::atomic<int>* d, size_t nn) : bad(b), done(d), n(nn) {}
    void run() noexcept override {
      std::vector<int> hits(n, 0);
      parallel_for(n, [&](size_t i) { hits[i]++; });
      for (int h : hits)
        if (h != 1) bad->fetch_add(1);
      done->fetch_add(1);
    }
  };
  std::atomic<int> bad{0}, done{0};
  for (int i = 0; i < 200; i++) pool.submit(920 + i % 3, std::make_unique<SumTask>(&bad, &done, size_t(1 + i * 7 % 300)));
  CHECK(wait_for(done, 200), "only %d of 200 tasks finished", done.load());
  CHECK(bad.load() == 0, "%d wrong counts", bad.load());
}

TEST(pool_idle_workers_go_to_sleep) {
  ThreadsGuard g;
  set_num_threads(3);
  parallel_for(64, [](size_t) {});
  const PoolStats s0 = ThreadPool::instance().stats();
  CHECK(s0.workers >= 3, "workers %d", s0.workers);
  // After the spin window every idle worker blocks; poll generously (the box may be loaded).
  bool asleep = false;
  for (int i = 0; i < 400 && !asleep; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const PoolStats s = ThreadPool::instance().stats();
    asleep = s.sleeping == s.workers && s.spinning == 0;
  }
  const PoolStats s = ThreadPool::instance().stats();
  CHECK(asleep, "sleeping %d of %d workers, spinning %d", s.sleeping, s.workers, s.spinning);
}

TEST(cpu_quota_parsing) {
  CHECK(parse_cpu_max("max 100000\n") == 0, "max");
  CHECK(parse_cpu_max("150000 100000\n") == 1.5, "1.5");
  CHECK(parse_cpu_max("200000 100000") == 2.0, "2");
  CHECK(parse_cpu_max("") == 0 && parse_cpu_max("garbage") == 0 && parse_cpu_max("100 0") == 0, "malformed");
  // A fake cgroup tree: v2 limits nested (the smallest wins), v1 quota.
  char tmpl[] = "/tmp/st-cgroup-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  CHECK(dir, "mkdtemp");
  const std::string root = dir;
  auto write = [](const std::string& p, const char* text) {
    std::ofstream f(p);
    f << text;
  };
  mkdir((root + "/a").c_str(), 0700);
  mkdir((root + "/a/b").c_str(), 0700);
  write(root + "/cpu.max", "max 100000\n");
  write(root + "/a/cpu.max", "300000 100000\n");
  write(root + "/a/b/cpu.max", "max 100000\n");
  CHECK(cgroup_cpu_limit_at("0::/a/b\n", root) == 3.0, "v2 nested: %g", cgroup_cpu_limit_at("0::/a/b\n", root));
  CHECK(cgroup_cpu_limit_at("0::/\n", root) == 0, "v2 root unlimited");
  CHECK(cgroup_cpu_limit_at("0::/not/there\n", root) == 0, "missing path falls back to root");
  mkdir((root + "/cpu,cpuacct").c_str(), 0700);
  mkdir((root + "/cpu,cpuacct/x").c_str(), 0700);
  write(root + "/cpu,cpuacct/x/cpu.cfs_quota_us", "250000\n");
  write(root + "/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
  CHECK(cgroup_cpu_limit_at("4:cpu,cpuacct:/x\n0::/\n", root) == 2.5, "v1 quota");
  write(root + "/cpu,cpuacct/x/cpu.cfs_quota_us", "-1\n");
  CHECK(cgroup_cpu_limit_at("4:cpu,cpuacct:/x\n", root) == 0, "v1 unlimited");
  CHECK(cgroup_cpu_limit_at("4:memory:/x\n", root) == 0, "non-cpu controller ignored");
  std::string cmd = "rm -rf '" + root + "'";
  CHECK(std::system(cmd.c_str()) == 0, "cleanup");
}
