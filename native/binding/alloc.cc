// allocBuffer(bytes) -> ArrayBuffer: large outputs from the process-wide buffer pool (runtime/buffer_pool.h), as
// external ArrayBuffers whose finalizer hands the block back. Where the runtime refuses external buffers (a V8
// sandbox, e.g. Electron) it answers a plain ArrayBuffer. No math here.
#include "binding/util.h"
#include "runtime/buffer_pool.h"

namespace simdtensor {
namespace binding {

namespace {

void release_block(napi_env env, void* data, void* hint) {
  const size_t capacity = reinterpret_cast<size_t>(hint);
  buffer_pool_put(data, capacity);
  // Tell V8 the memory is gone (it was reported when the buffer was made), so GC pacing stays right.
  int64_t ignored;
  if (env) napi_adjust_external_memory(env, -int64_t(capacity), &ignored);
}

// A plain (V8-allocated, zero-filled) ArrayBuffer: for 0 bytes, when the pool declines, or when the runtime refuses
// external buffers. Made through JS's constructor, so a failed allocation is a RangeError, not a fatal error.
Napi::Value plain_buffer(napi_env env, size_t bytes) { return new_array_buffer(env, "allocBuffer", bytes); }

// allocBuffer(bytes): a zero-filled ArrayBuffer of exactly `bytes`.
Napi::Value AllocBuffer(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  // The largest output: MAX_ELEMENTS elements of 4 bytes (src/tensor.ts refuses larger ones before asking).
  const size_t bytes = size_arg(info, 0, "allocBuffer", "bytes", 4 * kMaxElements);
  if (bytes == 0) return plain_buffer(env, 0);
  size_t capacity = 0;
  void* p = buffer_pool_get(bytes, &capacity);  // OutOfMemory becomes a RangeError (export_fn)
  if (!p) return plain_buffer(env, bytes);      // declined (pooling off, or the limit is out: see buffer_pool_get)
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, bytes, release_block, reinterpret_cast<void*>(capacity), &ab) !=
      napi_ok) {
    buffer_pool_put(p, capacity);
    return plain_buffer(env, bytes);
  }
  int64_t ignored;
  napi_adjust_external_memory(env, int64_t(capacity), &ignored);
  return Napi::Value(env, ab);
}

// bufferPool() -> { cachedBytes, cachedBlocks, limitBytes, hits, misses, outstandingBytes, declined }
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
  return o;
}

// setBufferPoolLimit(bytes): the most bytes the pool keeps (0 = pooling off); trims down to it.
Napi::Value SetBufferPoolLimit(const Napi::CallbackInfo& info) {
  buffer_pool_set_limit(size_arg(info, 0, "setBufferPoolLimit", "bytes", size_t(1) << 44));
  return info.Env().Undefined();
}

Napi::Value TrimBufferPool(const Napi::CallbackInfo& info) {
  buffer_pool_trim();
  return info.Env().Undefined();
}

}  // namespace

void init_alloc(Napi::Env env, Napi::Object exports) {
  export_fn<AllocBuffer>(env, exports, "allocBuffer");
  export_fn<BufferPool>(env, exports, "bufferPool");
  export_fn<SetBufferPoolLimit>(env, exports, "setBufferPoolLimit");
  export_fn<TrimBufferPool>(env, exports, "trimBufferPool");
}

}  // namespace binding
}  // namespace simdtensor
