#pragma once
// Open-addressing (linear probing) table of the keys of one source: sku hash →
// content hash + state. 24 bytes per slot, load factor <= 0.75, so 1M keys
// take 48 MiB; sku strings are never held in memory. Private to src/etl.

#include <cstdint>
#include <memory>
#include <vector>

namespace catalog::etl {

class KeyTable {
 public:
  struct Slot {
    std::uint64_t key = 0;      ///< key_hash(sku)
    std::uint64_t content = 0;  ///< content hash stored in products (when kInDb)
    std::uint32_t check = 0;    ///< key_check(sku): 96 bits identify the key
    std::uint32_t meta = 0;     ///< kUsed | kInDb | kDeleted | first feed line (0 = not in feed)
  };
  static constexpr std::uint32_t kUsed = 1u << 31;
  static constexpr std::uint32_t kInDb = 1u << 30;
  static constexpr std::uint32_t kDeleted = 1u << 29;
  static constexpr std::uint32_t kLineMask = kDeleted - 1;

  KeyTable() { resize(1024); }

  /// Finds the slot of (key, check) or claims an empty one (meta = kUsed).
  Slot& find_or_insert(std::uint64_t key, std::uint32_t check) {
    if ((size_ + 1) * 4 > slots_.size() * 3) resize(slots_.size() * 2);
    std::size_t i = static_cast<std::size_t>(key) & mask_;
    for (;;) {
      Slot& s = slots_[i];
      if (s.meta == 0) {
        s.key = key;
        s.check = check;
        s.meta = kUsed;
        ++size_;
        return s;
      }
      if (s.key == key && s.check == check) return s;
      i = (i + 1) & mask_;
    }
  }

  const Slot* find(std::uint64_t key, std::uint32_t check) const {
    std::size_t i = static_cast<std::size_t>(key) & mask_;
    for (;;) {
      const Slot& s = slots_[i];
      if (s.meta == 0) return nullptr;
      if (s.key == key && s.check == check) return &s;
      i = (i + 1) & mask_;
    }
  }

  static std::uint32_t line_of(const Slot& s) { return s.meta & kLineMask; }
  /// Records the first feed line of a key (saturating: lines past 2^29 are
  /// still marked as seen, the duplicate message then says "a line > ...").
  static void mark_seen(Slot& s, std::uint64_t line) {
    const std::uint64_t l = line == 0 ? 1 : (line > kLineMask ? kLineMask : line);
    s.meta = (s.meta & ~kLineMask) | static_cast<std::uint32_t>(l);
  }

  std::size_t size() const noexcept { return size_; }

  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.meta != 0) f(s);
    }
  }

 private:
  void resize(std::size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.meta == 0) continue;
      std::size_t i = static_cast<std::size_t>(s.key) & mask_;
      while (slots_[i].meta != 0) i = (i + 1) & mask_;
      slots_[i] = s;
      ++size_;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace catalog::etl
