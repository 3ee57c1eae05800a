// A tiny test harness for the native kernel tests (no dependency): TEST(name) registers, CHECK records failures.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "cpu/features.h"

namespace sttest {

struct Test {
  const char* name;
  void (*fn)();
};
std::vector<Test>& registry();
struct Registrar {
  Registrar(const char* n, void (*f)()) { registry().push_back({n, f}); }
};
extern int g_failures;
// Records that the running test did not run `what` (a variant name) and why; main() counts every one and names
// each skipped variant, with the tests that skipped it, in the summary.
void skip(const char* what, const char* why);
// The one skip check for variant loops: true when this CPU can run `v`, else the skip is recorded.
//   for (const FooVariant& v : foo_table) { if (!sttest::runnable(v)) continue; ... }
template <class V>
bool runnable(const V& v) {
  if (simdtensor::isa_supported(v.isa)) return true;
  skip(v.name, "CPU lacks this ISA");
  return false;
}
// Calls f(v) for every variant of `table` this CPU can run; the others are recorded as skipped.
template <class Table, class F>
void for_each_runnable(const Table& table, F&& f) {
  for (const auto& v : table)
    if (runnable(v)) f(v);
}

// Deterministic xorshift in [-1, 1).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return uint32_t(s >> 32);
  }
  float uniform() { return float(next()) * (2.0f / 4294967296.0f) - 1.0f; }
};

// Calls f(v, rng) for every variant of `table` this CPU can run, with an Rng seeded by the variant's index in the
// table plus `seed` (each test its own stream, the same on every run); the others are recorded as skipped.
template <class Table, class F>
void for_each_runnable(const Table& table, uint64_t seed, F&& f) {
  for (size_t i = 0; i < table.size(); i++) {
    if (!runnable(table[i])) continue;
    Rng rng(i + seed);
    f(table[i], rng);
  }
}

// got is within abs_tol + rel_tol·|want| of want; a NaN must stay a NaN and an infinity the same infinity.
inline bool close_to(float got, float want, float abs_tol, float rel_tol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= abs_tol + rel_tol * std::fabs(want);
}

// Columns n..ldc-1 of an m-row output were filled with `sentinel` before the kernel ran: true if none changed
// (nothing was written past n), else reports the first one.
inline bool stride_gap_untouched(const float* c, size_t m, size_t n, size_t ldc, float sentinel, const char* what,
                                 size_t k) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = n; j < ldc; j++)
      if (c[i * ldc + j] != sentinel) {
        std::fprintf(stderr, "  %s wrote past n: m=%zu n=%zu k=%zu (%zu,%zu)\n", what, m, n, k, i, j);
        return false;
      }
  return true;
}

// A buffer placed flush against the end of its own allocation, so an over-read past `n` hits ASan's redzone.
template <class T>
struct Flush {
  std::unique_ptr<T[]> mem;
  T* p;
  size_t n;
  explicit Flush(size_t count) : mem(new T[count ? count : 1]), p(mem.get()), n(count) {}
  T& operator[](size_t i) { return p[i]; }
  T* data() { return p; }
};

}  // namespace sttest

#define ST_CAT2(a, b) a##b
#define ST_CAT(a, b) ST_CAT2(a, b)
#define TEST(name)                                                   \
  static void name();                                                \
  static sttest::Registrar ST_CAT(reg_, name)(#name, &name);         \
  static void name()
#define CHECK(cond, ...)                                             \
  do {                                                               \
    if (!(cond)) {                                                   \
      std::fprintf(stderr, "  CHECK failed %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                             \
      std::fprintf(stderr, "\n");                                    \
      sttest::g_failures++;                                          \
      return;                                                        \
    }                                                                \
  } while (0)
