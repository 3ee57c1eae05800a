// One generic best-first variant table per kernel family: selection under the ISA cap and lookup by name.
//
// The pattern (every family, the same way):
//   1. The family header declares its variant struct (any struct with `const char* name` and `Isa isa`), the
//      kernels from its kernels.inc, and `extern const VariantTable<FooVariant> foo_table;`.
//   2. native/cpu/dispatch.cc fills the table from kernels.inc (a null-terminated list of pointers, best first)
//      and lists the family's cpuInfo().kernels rows, each a call of the same select() the ops make.
//   3. Ops call `foo_table.select()` (or `select(pred)` when a call can only use some of the variants, e.g. one
//      conversion direction); tests walk `for (const FooVariant& v : foo_table)`.
// Adding a variant is its .cc file + one kernels.inc line; no family writes its own select/find/report code.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "cpu/features.h"

namespace simdtensor {

template <class V>
class VariantTable {
 public:
  // `list` is best first and ends with a nullptr (so a family with no variant on some architecture still
  // compiles to a valid, empty table).
  template <size_t N>
  constexpr explicit VariantTable(const V* const (&list)[N]) : list_(list), size_(N - 1) {}

  size_t size() const { return size_; }
  const V& operator[](size_t i) const { return *list_[i]; }

  struct Iterator {
    const V* const* p;
    const V& operator*() const { return **p; }
    Iterator& operator++() {
      ++p;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return p != o.p; }
  };
  Iterator begin() const { return {list_}; }
  Iterator end() const { return {list_ + size_}; }

  // The first (best) variant that `accept` takes and the current ISA cap allows; null when there is none
  // (families without a scalar entry, such as the peak probes).
  template <class Pred>
  const V* best(Pred accept) const {
    for (size_t i = 0; i < size_; i++)
      if (accept(*list_[i]) && isa_allowed(list_[i]->isa)) return list_[i];
    return nullptr;
  }
  const V* best() const { return best(any); }

  // As best(), for families whose list ends in a scalar entry (always allowed): never null. Should the cap ever
  // exclude everything, the last variant `accept` takes (the scalar one) is returned.
  template <class Pred>
  const V& select(Pred accept) const {
    if (const V* v = best(accept)) return *v;
    for (size_t i = size_; i-- > 0;)
      if (accept(*list_[i])) return *list_[i];
    std::abort();  // a predicate that takes no variant at all is a bug in the caller
  }
  const V& select() const { return select(any); }

  // The variant with exactly this symbol name, or null.
  const V* find(const char* name) const {
    for (size_t i = 0; i < size_; i++)
      if (std::strcmp(list_[i]->name, name) == 0) return list_[i];
    return nullptr;
  }

 private:
  static bool any(const V&) { return true; }
  const V* const* list_;
  size_t size_;
};

// A predicate for select()/best(): the variants whose `field` equals `value` (e.g. one conversion direction).
template <class V, class F, class T>
auto field_is(F V::*field, T value) {
  return [field, value](const V& v) { return v.*field == value; };
}

}  // namespace simdtensor
