// Prepacked weight panels kept per layout: packed once for the first layout, and for any other layout made on first
// use by re-laying the first packing (e.g. after the ISA cap changes). One mechanism for the f32, conv, half and int8
// weight classes; each supplies its layout key, the panel element count of a layout and the re-lay function.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <utility>

#include "runtime/core/aligned.h"

namespace simdtensor {

template <class Key, class T>
class PanelsByLayout {
 public:
  // Adopts the panels of the first packing, made for `first`.
  void set_first(const Key& first, AlignedPtr<T> panels) {
    first_ = first;
    by_layout_.emplace(first, std::move(panels));
  }
  const Key& first() const { return first_; }

  // The panels for `key`. When absent: count(key) elements are allocated and relay(first panels, first key, key,
  // out) fills them. Thread-safe; a pointer stays valid for the owner's lifetime.
  template <class Count, class Relay>
  const T* get(const Key& key, Count count, Relay relay) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_layout_.find(key);
    if (it != by_layout_.end()) return it->second.get();
    auto p = aligned_alloc_array<T>(count(key));
    relay(by_layout_.at(first_).get(), first_, key, p.get());
    const T* out = p.get();
    by_layout_.emplace(key, std::move(p));
    return out;
  }

  // Bytes held: the sum of count(key) * sizeof(T) over the layouts made so far.
  template <class Count>
  size_t bytes(Count count) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t b = 0;
    for (const auto& kv : by_layout_) b += count(kv.first) * sizeof(T);
    return b;
  }

 private:
  Key first_{};
  mutable std::mutex mu_;
  std::map<Key, AlignedPtr<T>> by_layout_;
};

}  // namespace simdtensor
