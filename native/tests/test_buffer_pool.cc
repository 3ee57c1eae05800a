// The output-buffer pool: zero-filled blocks, reuse by size class, the byte limit, trim, concurrent use.
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "runtime/core/buffer_pool.h"
#include "tests/harness.h"

using namespace simdtensor;

// The pool's state, for a failed CHECK's message.
#define POOL_STATE                                                                                          \
  "pool: %zu bytes cached in %zu blocks, %zu hits, %zu misses", buffer_pool_stats().cached_bytes,           \
      buffer_pool_stats().cached_blocks, buffer_pool_stats().hits, buffer_pool_stats().misses

namespace {
bool all_zero(const void* p, size_t n) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i]) return false;
  return true;
}
// Restores the limit a test changed.
struct LimitGuard {
  size_t saved = buffer_pool_stats().limit_bytes;
  ~LimitGuard() { buffer_pool_set_limit(saved); }
};
}  // namespace

TEST(buffer_pool_size_classes) {
  CHECK(buffer_pool_size_class(1) == (size_t(64) << 10), POOL_STATE);
  CHECK(buffer_pool_size_class(size_t(64) << 10) == (size_t(64) << 10), POOL_STATE);
  CHECK(buffer_pool_size_class((size_t(64) << 10) + 1) == (size_t(128) << 10), POOL_STATE);
  CHECK(buffer_pool_size_class(size_t(4) << 20) == (size_t(4) << 20), POOL_STATE);
  CHECK(buffer_pool_size_class((size_t(8) << 20) + 1) == (size_t(10) << 20), POOL_STATE);
}

TEST(buffer_pool_reuses_blocks_zero_filled) {
  LimitGuard g;
  buffer_pool_set_limit(size_t(64) << 20);
  buffer_pool_trim();
  const size_t bytes = 300000;
  size_t cap = 0;
  void* p = buffer_pool_get(bytes, &cap);
  CHECK(cap == buffer_pool_size_class(bytes) && cap >= bytes, POOL_STATE);
  CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0, POOL_STATE);
  CHECK(all_zero(p, bytes), POOL_STATE);
  std::memset(p, 0xAB, cap);  // dirty every byte of the block
  const BufferPoolStats s0 = buffer_pool_stats();
  buffer_pool_put(p, cap);
  CHECK(buffer_pool_stats().cached_bytes == s0.cached_bytes + cap, POOL_STATE);
  size_t cap2 = 0;
  void* q = buffer_pool_get(bytes - 1000, &cap2);  // same class: the same block comes back, zeroed again
  CHECK(q == p && cap2 == cap, POOL_STATE);
  CHECK(all_zero(q, bytes - 1000), POOL_STATE);
  CHECK(buffer_pool_stats().hits == s0.hits + 1, POOL_STATE);
  buffer_pool_put(q, cap2);
  buffer_pool_trim();
  CHECK(buffer_pool_stats().cached_bytes == 0 && buffer_pool_stats().cached_blocks == 0, POOL_STATE);
}

TEST(buffer_pool_huge_blocks_are_2mib_aligned) {
  size_t cap = 0;
  void* p = buffer_pool_get(size_t(5) << 20, &cap);
  CHECK(reinterpret_cast<uintptr_t>(p) % (size_t(2) << 20) == 0, POOL_STATE);
  CHECK(all_zero(p, size_t(5) << 20), POOL_STATE);
  buffer_pool_put(p, cap);
  buffer_pool_trim();
}

TEST(buffer_pool_respects_the_limit) {
  LimitGuard g;
  buffer_pool_set_limit(size_t(1) << 20);  // room for 4 blocks of 256 KiB, out or cached
  buffer_pool_trim();
  const size_t declined0 = buffer_pool_stats().declined;
  std::vector<std::pair<void*, size_t>> blocks;
  for (int i = 0; i < 6; i++) {
    size_t cap = 0;
    void* p = buffer_pool_get(size_t(256) << 10, &cap);
    blocks.push_back({p, cap});
  }
  // 1 MiB out and not back: the fifth and sixth requests are declined (the caller allocates plain memory).
  for (int i = 0; i < 4; i++) CHECK(blocks[i].first != nullptr, POOL_STATE);
  CHECK(blocks[4].first == nullptr && blocks[5].first == nullptr, POOL_STATE);
  CHECK(buffer_pool_stats().declined == declined0 + 2, POOL_STATE);
  CHECK(buffer_pool_stats().outstanding_bytes == (size_t(1) << 20), POOL_STATE);
  for (auto& b : blocks) buffer_pool_put(b.first, b.second);
  CHECK(buffer_pool_stats().outstanding_bytes == 0, POOL_STATE);
  CHECK(buffer_pool_stats().cached_blocks == 4, POOL_STATE);
  CHECK(buffer_pool_stats().cached_bytes == (size_t(1) << 20), POOL_STATE);
  // A cached block is reused even when the limit is reached.
  size_t cap = 0;
  void* p = buffer_pool_get(size_t(200) << 10, &cap);
  CHECK(p != nullptr && buffer_pool_stats().cached_blocks == 3, POOL_STATE);
  buffer_pool_put(p, cap);
  buffer_pool_set_limit(size_t(512) << 10);  // trims down to the new limit
  CHECK(buffer_pool_stats().cached_bytes <= (size_t(512) << 10), POOL_STATE);
  buffer_pool_set_limit(0);  // off: nothing is kept, every request declined
  CHECK(buffer_pool_stats().cached_bytes == 0, POOL_STATE);
  CHECK(buffer_pool_get(1000, &cap) == nullptr, POOL_STATE);
  CHECK(buffer_pool_get(1000, &cap, true) == nullptr, POOL_STATE);  // off means off, scoped or not
}

TEST(buffer_pool_scoped_requests_pass_the_limit_up_to_twice_it) {
  LimitGuard g;
  buffer_pool_set_limit(size_t(256) << 10);
  buffer_pool_trim();
  size_t c1 = 0, c2 = 0, c3 = 0;
  void* a = buffer_pool_get(size_t(256) << 10, &c1);  // the whole limit is out
  CHECK(a != nullptr, POOL_STATE);
  const size_t declined = buffer_pool_stats().declined;
  CHECK(buffer_pool_get(size_t(64) << 10, &c2) == nullptr, POOL_STATE);
  CHECK(buffer_pool_stats().declined == declined + 1, POOL_STATE);
  unsigned char* b = static_cast<unsigned char*>(buffer_pool_get(size_t(64) << 10, &c3, true));
  CHECK(b != nullptr && all_zero(b, size_t(64) << 10), POOL_STATE);
  CHECK(buffer_pool_stats().outstanding_bytes == c1 + c3, POOL_STATE);
  size_t c4 = 0, c5 = 0;
  void* c = buffer_pool_get(size_t(192) << 10, &c4, true);  // up to twice the limit
  CHECK(c != nullptr && buffer_pool_stats().outstanding_bytes == (size_t(512) << 10), POOL_STATE);
  CHECK(buffer_pool_get(size_t(64) << 10, &c5, true) == nullptr, POOL_STATE);  // and no further
  // A block a scope returned while the limit is out stays for scoped requests: a plain one is declined.
  buffer_pool_put(b, c3);
  const size_t hits = buffer_pool_stats().hits, declined2 = buffer_pool_stats().declined;
  CHECK(buffer_pool_get(size_t(64) << 10, &c5) == nullptr, POOL_STATE);
  CHECK(buffer_pool_stats().declined == declined2 + 1 && buffer_pool_stats().cached_blocks == 1, POOL_STATE);
  b = static_cast<unsigned char*>(buffer_pool_get(size_t(64) << 10, &c3, true));
  CHECK(b != nullptr && buffer_pool_stats().hits == hits + 1 && all_zero(b, size_t(64) << 10), POOL_STATE);
  buffer_pool_put(c, c4);
  buffer_pool_put(b, c3);
  buffer_pool_put(a, c1);
  CHECK(buffer_pool_stats().outstanding_bytes == 0, POOL_STATE);
  buffer_pool_trim();
}

TEST(buffer_pool_declines_unscoped_requests_below_plain_below) {
  LimitGuard g;
  const size_t saved_plain = buffer_pool_stats().plain_below;
  buffer_pool_set_limit(size_t(64) << 20);
  buffer_pool_trim();
  buffer_pool_set_plain_below(size_t(1) << 20);
  CHECK(buffer_pool_stats().plain_below == (size_t(1) << 20), POOL_STATE);
  const BufferPoolStats s0 = buffer_pool_stats();
  size_t c1 = 0, c2 = 0, c3 = 0;
  // Under the threshold and unscoped: declined, nothing mapped or taken (even with a block of that class cached).
  void* scoped = buffer_pool_get(size_t(512) << 10, &c1, true);
  CHECK(scoped != nullptr, POOL_STATE);
  buffer_pool_put(scoped, c1);  // now cached
  CHECK(buffer_pool_get(size_t(512) << 10, &c2) == nullptr, POOL_STATE);
  void* mib = buffer_pool_get((size_t(1) << 20) - 1, &c2);  // its class is 1 MiB, not below: pooled (a miss)
  CHECK(mib != nullptr && c2 == (size_t(1) << 20), POOL_STATE);
  buffer_pool_put(mib, c2);
  const BufferPoolStats s1 = buffer_pool_stats();
  CHECK(s1.declined == s0.declined + 1, POOL_STATE);
  CHECK(s1.misses == s0.misses + 2 && s1.hits == s0.hits, POOL_STATE);
  // At the threshold and above, unscoped requests are pooled; scoped ones always were.
  void* big = buffer_pool_get(size_t(2) << 20, &c3);
  CHECK(big != nullptr && c3 == (size_t(2) << 20), POOL_STATE);
  buffer_pool_put(big, c3);
  scoped = buffer_pool_get(size_t(512) << 10, &c1, true);
  CHECK(scoped != nullptr && buffer_pool_stats().hits == s1.hits + 1, POOL_STATE);
  buffer_pool_put(scoped, c1);
  buffer_pool_set_plain_below(saved_plain);
  buffer_pool_trim();
}

TEST(buffer_pool_concurrent_get_put) {
  LimitGuard g;
  buffer_pool_set_limit(size_t(8) << 20);
  std::vector<std::thread> ts;
  std::vector<int> ok(4, 1);
  for (int t = 0; t < 4; t++)
    ts.emplace_back([t, &ok] {
      for (int i = 0; i < 200; i++) {
        const size_t bytes = size_t(64 + (i * 7 + t) % 200) << 10;
        size_t cap = 0;
        unsigned char* p = static_cast<unsigned char*>(buffer_pool_get(bytes, &cap));
        if (!p) continue;  // declined: more than the limit out at once
        if (!all_zero(p, bytes)) ok[t] = 0;
        std::memset(p, t + 1, bytes);
        buffer_pool_put(p, cap);
      }
    });
  for (auto& th : ts) th.join();
  for (int v : ok) CHECK(v == 1, POOL_STATE);
  buffer_pool_trim();
}

TEST(buffer_pool_recent_sizes_evict_stale_ones) {
  LimitGuard g;
  buffer_pool_set_limit(size_t(1) << 20);
  buffer_pool_trim();
  // Fill the pool with 64 KiB blocks (a size no longer used), then return 256 KiB blocks: they push the old out.
  std::vector<std::pair<void*, size_t>> small, large;
  for (int i = 0; i < 16; i++) {
    size_t cap = 0;
    small.push_back({buffer_pool_get(1000, &cap), cap});
  }
  for (auto& b : small) buffer_pool_put(b.first, b.second);
  CHECK(buffer_pool_stats().cached_bytes == (size_t(1) << 20), POOL_STATE);
  for (int i = 0; i < 2; i++) {
    size_t cap = 0;
    large.push_back({buffer_pool_get(size_t(256) << 10, &cap), cap});
    CHECK(large.back().first != nullptr, POOL_STATE);
  }
  for (auto& b : large) buffer_pool_put(b.first, b.second);
  CHECK(buffer_pool_stats().cached_bytes == (size_t(1) << 20), POOL_STATE);
  CHECK(buffer_pool_stats().cached_blocks == 2 + 8, POOL_STATE);  // two large blocks, half the small ones left
  const size_t hits = buffer_pool_stats().hits;
  size_t cap = 0;
  void* p = buffer_pool_get(size_t(250) << 10, &cap);
  CHECK(buffer_pool_stats().hits == hits + 1, POOL_STATE);
  buffer_pool_put(p, cap);
  buffer_pool_trim();
}
