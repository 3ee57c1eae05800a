// 64-byte aligned buffers for packed panels (one cache line; a full zmm load never splits lines).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace simdtensor {

// An allocation the runtime could not make, with its size: the binding turns it (and any std::bad_alloc) into a
// RangeError naming the op, on the JS thread or through a rejected promise, never std::terminate.
struct OutOfMemory : std::bad_alloc {
  explicit OutOfMemory(size_t b) : bytes(b) {}
  const char* what() const noexcept override { return "out of memory"; }
  size_t bytes;  // SIZE_MAX: the size itself overflowed
};

// count * size, or OutOfMemory(SIZE_MAX) when it overflows size_t.
inline size_t checked_bytes(size_t count, size_t size) {
  if (size != 0 && count > (SIZE_MAX - 63) / size) throw OutOfMemory(SIZE_MAX);
  return count * size;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
template <class T>
using AlignedPtr = std::unique_ptr<T[], AlignedFree>;

template <class T>
inline AlignedPtr<T> aligned_alloc_array(size_t count) {
  size_t bytes = (checked_bytes(count, sizeof(T)) + 63) & ~size_t(63);
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw OutOfMemory(bytes);
  return AlignedPtr<T>(static_cast<T*>(p));
}

// A per-thread scratch buffer that only grows. Never null, even for 0 elements (memset/memcpy of 0 bytes still
// need a valid pointer).
template <class T>
struct ScratchBuffer {
  AlignedPtr<T> ptr;
  size_t cap = 0;
  T* get(size_t count) {
    if (count > cap || !ptr) {
      ptr = aligned_alloc_array<T>(count);
      cap = count;
    }
    return ptr.get();
  }
};

}  // namespace simdtensor
