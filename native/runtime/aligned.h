// 64-byte aligned buffers for packed panels (one cache line; a full zmm load never splits lines).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace simdtensor {

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
template <class T>
using AlignedPtr = std::unique_ptr<T[], AlignedFree>;

template <class T>
inline AlignedPtr<T> aligned_alloc_array(size_t count) {
  size_t bytes = (count * sizeof(T) + 63) & ~size_t(63);
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return AlignedPtr<T>(static_cast<T*>(p));
}

// A per-thread scratch buffer that only grows.
template <class T>
struct ScratchBuffer {
  AlignedPtr<T> ptr;
  size_t cap = 0;
  T* get(size_t count) {
    if (count > cap) {
      ptr = aligned_alloc_array<T>(count);
      cap = count;
    }
    return ptr.get();
  }
};

}  // namespace simdtensor
