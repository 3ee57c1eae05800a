#include "runtime/core/malloc_tuning.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace simdtensor {

namespace {

// glibc's own ceiling for its dynamic mmap threshold on 64-bit (4 MiB * sizeof(long)): blocks below it come from
// the heap, whose freed chunks are reused by the next allocation of that size.
constexpr size_t kMmapThreshold = size_t(32) << 20;
// Free heap memory kept mapped at the top before glibc returns it to the kernel. V8 frees dead ArrayBuffers in
// batches (one GC frees every buffer that died since the last), so a threshold below one batch gives the memory
// back only to fault it in again at ~4 µs-15 µs per 4 KiB page on a VM.
constexpr size_t kTrimThreshold = size_t(256) << 20;

MallocTuning apply_once() {
  MallocTuning t{false, 0, 0};
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
  size_t trim = kTrimThreshold;
  const char* s = std::getenv("SIMDTENSOR_MALLOC");
  if (s && *s) {
    if (std::strcmp(s, "default") == 0) return t;
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(s, &end, 10);
    if (end == s || *end) return t;  // unrecognised: leave glibc alone rather than guess
    trim = size_t(mb) << 20;
  }
  // Setting either disables glibc's dynamic adjustment of both, so both are set.
  if (mallopt(M_MMAP_THRESHOLD, int(kMmapThreshold)) != 1) return t;
  if (mallopt(M_TRIM_THRESHOLD, int(trim > size_t(1) << 30 ? size_t(1) << 30 : trim)) != 1) return t;
  t = {true, kMmapThreshold, trim};
#endif
  return t;
}

}  // namespace

MallocTuning malloc_tuning_apply() {
  static std::once_flag once;
  static MallocTuning result{false, 0, 0};
  std::call_once(once, [] { result = apply_once(); });
  return result;
}

}  // namespace simdtensor
