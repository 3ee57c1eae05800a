// A process-wide pool of large, zero-filled output buffers. Returning a block to the pool keeps its pages mapped,
// so the next output of that size costs a memset instead of one page fault per 4 KiB (measured on a Firecracker-
// style VM: ~15 µs per fault, i.e. ~15 ms for a 4 MiB output, more than the 1024³ GEMM that fills it). Blocks of
// 2 MiB and more are 2 MiB-aligned and advised for transparent huge pages. Thread-safe; no N-API here.
#pragma once
#include <cstddef>

namespace simdtensor {

struct BufferPoolStats {
  size_t cached_bytes;  // held in the pool, ready for reuse
  size_t cached_blocks;
  size_t limit_bytes;   // the most the pool keeps (0: pooling off, every block is freed)
  size_t hits, misses;  // get() calls served from the pool / by a fresh allocation
  size_t outstanding_bytes;  // handed out and not yet put back
  size_t declined;           // get() calls answered nullptr (see buffer_pool_get)
  size_t plain_below;        // unscoped requests under this size class are always declined (buffer_pool_set_plain_below)
};

// A zero-filled block of at least `bytes` (> 0). `*capacity` receives the block's size class, which must be handed
// back to buffer_pool_put(). A block (cached or freshly mapped) is handed out only while the bytes handed out and
// not yet returned stay within the limit; past it the pool declines (returns nullptr) and the
// caller allocates plain memory: blocks come back only when their owner (V8's GC, then a finalizer on the event
// loop) releases them, so a program that never yields would otherwise get nothing but fresh, never-reused
// mappings, where the general-purpose allocator would have recycled memory freed by the GC. A `scoped` request (an
// output made inside a JS scope(), which hands it back when the scope ends unless it escapes) may take the pool up
// to twice the limit: the outputs a scope releases come back without the GC, so fresh outputs having used the limit
// up must not turn them into plain memory, while a scope's escaping results stay bounded. A plain request past the
// limit does not take a block a scope returned either: the scope's next output reuses it (no new mapping, and the
// bytes out — external memory to V8 — do not creep up to twice the limit). Throws std::bad_alloc if
// mapping fails. `zero` false: a reused block keeps its old bytes (for outputs the caller overwrites whole).
void* buffer_pool_get(size_t bytes, size_t* capacity, bool scoped = false, bool zero = true);
// Returns a block to the pool. Past the limit, cached blocks of other sizes are freed to make room (largest cached
// size class first); the block itself is freed only if blocks of its own size fill the pool.
void buffer_pool_put(void* p, size_t capacity);
// Unscoped requests whose size class is below `bytes` are declined from now on (0, the default: none are). The binding
// sets it to the mmap threshold it gave glibc (runtime/core/malloc_tuning.h): below it a plain buffer that V8 frees
// goes back to glibc's heap during the GC itself and the next allocation reuses it, while an unscoped pool block comes
// back only after a GC *and* a finalizer on the event loop — until then every request the cache cannot serve maps
// memory new to the process, one page fault per 4 KiB (~3 ms per MiB on the project's VM). Measured on a 1 MiB output
// (40×6625 softmax, 600 calls): 3.0 ms per call for the first 60 calls of a loop that never yields and 0.24–0.46 ms
// mean in one that yields each call, against 0.13 / 0.16 ms as plain buffers (docs/memory.md). Scoped requests are
// not affected: a scope returns its blocks itself.
void buffer_pool_set_plain_below(size_t bytes);
// Frees every cached block.
void buffer_pool_trim();
// Sets the most bytes the pool keeps (trimming down to it). Default: 64 MiB, or SIMDTENSOR_POOL_MB from the
// environment (0 turns pooling off).
void buffer_pool_set_limit(size_t bytes);
BufferPoolStats buffer_pool_stats();
// The size class a request of `bytes` gets (64 KiB granularity; 2 MiB past 8 MiB).
size_t buffer_pool_size_class(size_t bytes);

}  // namespace simdtensor
