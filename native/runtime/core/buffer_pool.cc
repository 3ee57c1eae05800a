#include "runtime/core/buffer_pool.h"

#include "runtime/core/aligned.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#endif

namespace simdtensor {

namespace {

constexpr size_t kHuge = size_t(2) << 20;

struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_by_class;
  size_t cached_bytes = 0, cached_blocks = 0, hits = 0, misses = 0, outstanding = 0, declined = 0;
  size_t limit = default_limit();
  size_t plain_below = 0;

  static size_t default_limit() {
    const char* s = std::getenv("SIMDTENSOR_POOL_MB");
    if (s && *s) {
      char* end = nullptr;
      const unsigned long long mb = std::strtoull(s, &end, 10);
      if (end != s) return size_t(mb) << 20;
    }
    return size_t(64) << 20;
  }
};

// Leaked: blocks may come back from finalizers that run during process teardown.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

#if defined(__unix__) || defined(__APPLE__)
// Fresh blocks are anonymous mappings: zero by definition and mapped lazily, so the page faults of first use are
// paid by whoever writes the block first (a pool worker, for an async op), never by the allocating JS thread.
void* allocate(size_t cls) {
  const size_t align = cls >= kHuge ? kHuge : 4096;
  const size_t span = cls + (align > 4096 ? align : 0);
  void* m = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw OutOfMemory(cls);
  uintptr_t lo = reinterpret_cast<uintptr_t>(m), start = (lo + align - 1) / align * align;
  if (start > lo) munmap(m, start - lo);  // trim to the alignment
  const uintptr_t end = lo + span, stop = start + cls;
  if (end > stop) munmap(reinterpret_cast<void*>(stop), end - stop);
  void* p = reinterpret_cast<void*>(start);
#if defined(MADV_HUGEPAGE)
  if (cls >= kHuge) madvise(p, cls, MADV_HUGEPAGE);  // a hint: ignored where transparent huge pages are off
#endif
  return p;
}
void release(void* p, size_t cls) { munmap(p, cls); }
constexpr bool kFreshIsZero = true;
#else
void* allocate(size_t cls) {
  void* p = std::aligned_alloc(cls >= kHuge ? kHuge : 64, cls);
  if (!p) throw OutOfMemory(cls);
  return p;
}
void release(void* p, size_t) { std::free(p); }
constexpr bool kFreshIsZero = false;
#endif

}  // namespace

size_t buffer_pool_size_class(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t g = bytes > (size_t(8) << 20) ? kHuge : (size_t(64) << 10);
  return (bytes + g - 1) / g * g;
}

void* buffer_pool_get(size_t bytes, size_t* capacity, bool scoped, bool zero) {
  const size_t cls = buffer_pool_size_class(bytes);
  *capacity = cls;
  Pool& pl = pool();
  void* p = nullptr;
  {
    std::lock_guard<std::mutex> lk(pl.mu);
    auto it = pl.free_by_class.find(cls);
    // Past the limit a plain request is declined even when a block is cached: in a loop that never yields it would
    // keep the block until the loop ends, and the scope that returned it would map a new one next call.
    const size_t cap = scoped ? 2 * pl.limit : pl.limit;
    if (!scoped && cls < pl.plain_below) {
      pl.declined++;
      return nullptr;
    }
    if (it != pl.free_by_class.end() && !it->second.empty() && pl.outstanding + cls <= cap) {
      p = it->second.back();
      it->second.pop_back();
      pl.cached_bytes -= cls;
      pl.cached_blocks--;
      pl.hits++;
    } else if (pl.limit == 0 || pl.outstanding + cls > cap) {
      pl.declined++;
      return nullptr;
    } else {
      pl.misses++;
    }
    pl.outstanding += cls;
  }
  if (p) {
    if (zero) std::memset(p, 0, bytes);  // reused: the caller's bytes must read as zeros (the tail is never exposed)
    return p;
  }
  try {
    p = allocate(cls);
  } catch (...) {
    std::lock_guard<std::mutex> lk(pl.mu);
    pl.outstanding -= cls;  // nothing was handed out
    throw;
  }
  if (!kFreshIsZero) std::memset(p, 0, bytes);
  return p;
}

void buffer_pool_put(void* p, size_t capacity) {
  if (!p) return;
  Pool& pl = pool();
  std::vector<std::pair<void*, size_t>> evicted;
  bool keep = false;
  {
    std::lock_guard<std::mutex> lk(pl.mu);
    pl.outstanding -= capacity;
    if (capacity <= pl.limit) {
      // Over the limit, blocks of other sizes make room (the largest cached class first): the sizes in use now
      // stay, a size no longer asked for does not hold the pool.
      while (pl.cached_bytes + capacity > pl.limit) {
        size_t victim = 0, victim_bytes = 0;
        for (const auto& kv : pl.free_by_class)
          if (kv.first != capacity && !kv.second.empty() && kv.first * kv.second.size() > victim_bytes) {
            victim = kv.first;
            victim_bytes = kv.first * kv.second.size();
          }
        if (!victim) break;
        auto& v = pl.free_by_class[victim];
        evicted.push_back({v.back(), victim});
        v.pop_back();
        pl.cached_bytes -= victim;
        pl.cached_blocks--;
      }
      if (pl.cached_bytes + capacity <= pl.limit) {
        pl.free_by_class[capacity].push_back(p);
        pl.cached_bytes += capacity;
        pl.cached_blocks++;
        keep = true;
      }
    }
  }
  for (auto& e : evicted) release(e.first, e.second);
  if (!keep) release(p, capacity);
}

namespace {
// Frees cached blocks until at most `keep` bytes stay cached.
void drop_cached(Pool& pl, size_t keep) {
  std::vector<std::pair<void*, size_t>> drop;
  {
    std::lock_guard<std::mutex> lk(pl.mu);
    for (auto& kv : pl.free_by_class) {
      while (pl.cached_bytes > keep && !kv.second.empty()) {
        drop.push_back({kv.second.back(), kv.first});
        kv.second.pop_back();
        pl.cached_bytes -= kv.first;
        pl.cached_blocks--;
      }
    }
  }
  for (auto& d : drop) release(d.first, d.second);
}
}  // namespace

void buffer_pool_trim() { drop_cached(pool(), 0); }

void buffer_pool_set_limit(size_t bytes) {
  Pool& pl = pool();
  {
    std::lock_guard<std::mutex> lk(pl.mu);
    pl.limit = bytes;
  }
  drop_cached(pl, bytes);
}

void buffer_pool_set_plain_below(size_t bytes) {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lk(pl.mu);
  pl.plain_below = bytes;
}

BufferPoolStats buffer_pool_stats() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lk(pl.mu);
  return {pl.cached_bytes, pl.cached_blocks, pl.limit, pl.hits, pl.misses, pl.outstanding, pl.declined, pl.plain_below};
}

}  // namespace simdtensor
