// allocBuffer(bytes) -> ArrayBuffer: large outputs from the process-wide buffer pool (runtime/core/buffer_pool.h), as
// external ArrayBuffers whose finalizer hands the block back. Where the runtime refuses external buffers (a V8
// sandbox, e.g. Electron) it answers a plain ArrayBuffer. releaseBuffer(ab) hands a block back at once (src/scope.ts)
// by detaching its ArrayBuffer first, so no JS view can reach the memory again. No math here.
#include "binding/async.h"
#include "binding/util.h"
#include "runtime/core/buffer_pool.h"
#include "runtime/core/malloc_tuning.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace simdtensor {
namespace binding {

namespace {

// One pooled block handed out as an ArrayBuffer. Its finalizer (which Node runs on the event loop, after V8 has
// freed the buffer) and releaseBuffer (a scope's exit, before that) race to return it; whichever comes first puts
// the block back, the finalizer always frees the record.
struct Block {
  void* data;
  size_t capacity;
  bool returned = false;  // guarded by live_mu()
};

// Blocks handed out and not yet returned, by address (process-wide: the pool is). Leaked, like the pool: finalizers
// may run during process teardown.
std::mutex& live_mu() {
  static std::mutex* m = new std::mutex();
  return *m;
}
std::unordered_map<void*, Block*>& live() {
  static auto* m = new std::unordered_map<void*, Block*>();
  return *m;
}
std::atomic<size_t> g_released{0};

// Marks the block returned; true if it was not already (the caller then puts it back).
bool take_block(Block* b) {
  std::lock_guard<std::mutex> lk(live_mu());
  if (b->returned) return false;
  b->returned = true;
  live().erase(b->data);
  return true;
}

void give_back(napi_env env, Block* b) {
  buffer_pool_put(b->data, b->capacity);
  // Tell V8 the memory is gone (it was reported when the buffer was made), so GC pacing stays right.
  adjust_external_memory(env, -int64_t(b->capacity));
}

void release_block(napi_env env, void* /*data*/, void* hint) {
  Block* b = static_cast<Block*>(hint);
  if (take_block(b)) give_back(env, b);
  delete b;
}

// A plain (V8-allocated, zero-filled) ArrayBuffer: for 0 bytes, when the pool declines, or when the runtime refuses
// external buffers. Made through JS's constructor, so a failed allocation is a RangeError, not a fatal error.
Napi::Value plain_buffer(napi_env env, size_t bytes) { return new_array_buffer(env, "allocBuffer", bytes); }

// allocBuffer(bytes, scoped, uninit): a zero-filled ArrayBuffer of exactly `bytes`; `scoped` (made inside a JS scope(),
// which hands it back when it ends) may use up to twice the limit (see buffer_pool_get). `uninit` (for an op output the
// kernel overwrites whole): a reused block is not zeroed, and a declined request returns null (src/alloc.ts then makes
// an uninitialized plain buffer) — one write pass over the output less per call.
Napi::Value AllocBuffer(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  // The largest output: MAX_ELEMENTS elements of 4 bytes (src/tensor.ts refuses larger ones before asking).
  const size_t bytes = size_arg(info, 0, "allocBuffer", "bytes", 4 * kMaxElements);
  if (bytes == 0) return plain_buffer(env, 0);
  size_t capacity = 0;
  const bool scoped = info.Length() > 1 && bool_arg(info, 1);
  const bool uninit = info.Length() > 2 && bool_arg(info, 2);
  void* p = buffer_pool_get(bytes, &capacity, scoped, !uninit);  // OutOfMemory becomes a RangeError (export_fn)
  if (!p && uninit) return Napi::Env(env).Null();
  if (!p) return plain_buffer(env, bytes);      // declined (pooling off, or the limit is out: see buffer_pool_get)
  Block* b;
  try {
    b = new Block{p, capacity};
  } catch (...) {
    buffer_pool_put(p, capacity);
    throw;
  }
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, bytes, release_block, b, &ab) != napi_ok) {
    delete b;
    buffer_pool_put(p, capacity);
    return plain_buffer(env, bytes);
  }
  {
    std::lock_guard<std::mutex> lk(live_mu());
    live()[p] = b;
  }
  adjust_external_memory(env, int64_t(capacity));
  return Napi::Value(env, ab);
}

// releaseBuffer(ab) -> boolean: hands a pooled output's block back to the pool now, detaching `ab` (every view of
// it reads as empty from then on). false, and `ab` left as it is, when it is not a pooled block still out (a plain
// buffer, or one already returned), when an async op in flight reads or writes it, or when it cannot be detached.
Napi::Value ReleaseBuffer(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  bool is_ab = false;
  if (info.Length() < 1 || napi_is_arraybuffer(env, info[0], &is_ab) != napi_ok || !is_ab)
    throw Napi::TypeError::New(env, "releaseBuffer: ab must be an ArrayBuffer");
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, info[0], &data, &length) != napi_ok || !data)
    return Napi::Boolean::New(env, false);
  Block* b = nullptr;
  {
    std::lock_guard<std::mutex> lk(live_mu());
    auto it = live().find(data);
    if (it == live().end()) return Napi::Boolean::New(env, false);
    b = it->second;
  }
  if (busy_overlaps(data, b->capacity)) return Napi::Boolean::New(env, false);
  if (napi_detach_arraybuffer(env, info[0]) != napi_ok) return Napi::Boolean::New(env, false);
  // Detached: V8 holds no pointer into the block any more. The finalizer still comes (and only frees `b`).
  if (take_block(b)) {
    give_back(env, b);
    g_released.fetch_add(1, std::memory_order_relaxed);
  }
  return Napi::Boolean::New(env, true);
}

// bufferPool() -> { cachedBytes, cachedBlocks, limitBytes, hits, misses, outstandingBytes, declined, released,
//                   plainBelowBytes }
Napi::Value BufferPool(const Napi::CallbackInfo& info) {
  const BufferPoolStats s = buffer_pool_stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("cachedBytes", double(s.cached_bytes));
  o.Set("cachedBlocks", double(s.cached_blocks));
  o.Set("limitBytes", double(s.limit_bytes));
  o.Set("hits", double(s.hits));
  o.Set("misses", double(s.misses));
  o.Set("outstandingBytes", double(s.outstanding_bytes));
  o.Set("declined", double(s.declined));
  o.Set("released", double(g_released.load(std::memory_order_relaxed)));
  o.Set("plainBelowBytes", double(s.plain_below));
  return o;
}

// setBufferPoolLimit(bytes): the most bytes the pool keeps (0 = pooling off); trims down to it.
Napi::Value SetBufferPoolLimit(const Napi::CallbackInfo& info) {
  buffer_pool_set_limit(size_arg(info, 0, "setBufferPoolLimit", "bytes", size_t(1) << 44));
  return info.Env().Undefined();
}

// setBufferPoolPlainBelow(bytes): unscoped outputs under this size are plain buffers (buffer_pool_set_plain_below).
Napi::Value SetBufferPoolPlainBelow(const Napi::CallbackInfo& info) {
  buffer_pool_set_plain_below(size_arg(info, 0, "setBufferPoolPlainBelow", "bytes", size_t(1) << 44));
  return info.Env().Undefined();
}

Napi::Value TrimBufferPool(const Napi::CallbackInfo& info) {
  buffer_pool_trim();
  return info.Env().Undefined();
}

// mallocTuning() -> { applied, mmapThreshold, trimThreshold } (runtime/core/malloc_tuning.h)
Napi::Value MallocTuningInfo(const Napi::CallbackInfo& info) {
  const MallocTuning t = malloc_tuning_apply();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("applied", t.applied);
  o.Set("mmapThreshold", double(t.mmap_threshold));
  o.Set("trimThreshold", double(t.trim_threshold));
  return o;
}

}  // namespace

void init_alloc(Napi::Env env, Napi::Object exports) {
  // Where glibc keeps freed memory mapped (below its tuned mmap threshold), unscoped outputs are plain buffers: the
  // allocator recycles them at each GC, the pool only after the event loop turns (buffer_pool.h).
  const MallocTuning t = malloc_tuning_apply();
  if (t.applied) buffer_pool_set_plain_below(t.mmap_threshold);
  export_fn<AllocBuffer>(env, exports, "allocBuffer");
  export_fn<ReleaseBuffer>(env, exports, "releaseBuffer");
  export_fn<MallocTuningInfo>(env, exports, "mallocTuning");
  export_fn<BufferPool>(env, exports, "bufferPool");
  export_fn<SetBufferPoolLimit>(env, exports, "setBufferPoolLimit");
  export_fn<TrimBufferPool>(env, exports, "trimBufferPool");
  export_fn<SetBufferPoolPlainBelow>(env, exports, "setBufferPoolPlainBelow");
}

}  // namespace binding
}  // namespace simdtensor
