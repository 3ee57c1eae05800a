// Keeps memory the general-purpose allocator frees mapped (glibc's trim and mmap thresholds), so large plain
// ArrayBuffers that V8 frees during a loop that never yields are recycled instead of faulted in again. No N-API.
#pragma once
#include <cstddef>

namespace simdtensor {

struct MallocTuning {
  bool applied;              // false: not glibc, or SIMDTENSOR_MALLOC=default
  size_t mmap_threshold;     // bytes (0 when not applied)
  size_t trim_threshold;     // bytes (0 when not applied)
};

// Applies the tuning once per process (later calls return what the first did). SIMDTENSOR_MALLOC: unset or empty =
// the defaults (mmap threshold 32 MiB, trim threshold 256 MiB); `default` = leave glibc alone; a number = the trim
// threshold in MiB.
MallocTuning malloc_tuning_apply();

}  // namespace simdtensor
