#pragma once
// Open-addressing (linear probing) table of the keys of one source: sku hash →
// content hash + state. 24 bytes per slot, load factor <= 0.75, so 1M keys
// take 48 MiB; sku strings are never held in memory. Private to src/etl.
//
// Every feed row and every existing product is one random probe, so on a
// million-row catalog the table's cost is TLB and cache misses, not hashing
// (perf: 94% of the lookup on the slot load). The slots therefore live in one
// anonymous mapping advised for transparent huge pages, which the kernel
// hands out already zeroed, and the caller can size the table up front.

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include <sys/mman.h>

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

  /// `expected_keys` sizes the table so that many keys fit without growing.
  explicit KeyTable(std::size_t expected_keys = 0) : slots_(capacity_for(expected_keys)) {}

  /// Finds the slot of (key, check) or claims an empty one (meta = kUsed).
  Slot& find_or_insert(std::uint64_t key, std::uint32_t check) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    std::size_t i = static_cast<std::size_t>(key) & mask();
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
      i = (i + 1) & mask();
    }
  }

  const Slot* find(std::uint64_t key, std::uint32_t check) const {
    std::size_t i = static_cast<std::size_t>(key) & mask();
    for (;;) {
      const Slot& s = slots_[i];
      if (s.meta == 0) return nullptr;
      if (s.key == key && s.check == check) return &s;
      i = (i + 1) & mask();
    }
  }

  /// Starts loading the home slot of `key` into cache: issued early enough,
  /// the probe that follows does not stall on memory.
  void prefetch(std::uint64_t key) const noexcept {
    __builtin_prefetch(&slots_[static_cast<std::size_t>(key) & mask()], 1);
  }

  static std::uint32_t line_of(const Slot& s) { return s.meta & kLineMask; }
  /// Records the first feed line of a key (saturating: lines past 2^29 are
  /// still marked as seen, the duplicate message then says "a line > ...").
  static void mark_seen(Slot& s, std::uint64_t line) {
    const std::uint64_t l = line == 0 ? 1 : (line > kLineMask ? kLineMask : line);
    s.meta = (s.meta & ~kLineMask) | static_cast<std::uint32_t>(l);
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return slots_.size(); }
  /// True when the next new key makes the table double (old and new slots
  /// then coexist until the copy is done).
  bool full() const noexcept { return (size_ + 1) * 4 > slots_.size() * 3; }

  /// Smallest power of two >= 1024 that holds `keys` at load factor 0.75.
  static std::size_t capacity_for(std::size_t keys) {
    std::size_t capacity = 1024;
    while (capacity * 3 < keys * 4) capacity *= 2;
    return capacity;
  }
  /// The most keys a table sized up front can hold within `bytes` of slots.
  static std::size_t max_keys_within(std::size_t bytes) {
    std::size_t capacity = 1024;
    while (capacity * 2 * sizeof(Slot) <= bytes) capacity *= 2;
    return capacity / 4 * 3;
  }

  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].meta != 0) f(slots_[i]);
    }
  }

 private:
  /// Zero-initialised slots in one private anonymous mapping, aligned to 2 MiB
  /// and advised MADV_HUGEPAGE (a no-op where THP is off).
  class Slots {
   public:
    explicit Slots(std::size_t n) : n_(n) {
      const std::size_t bytes = n * sizeof(Slot);
      map_bytes_ = bytes + kHugePage;
      void* p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      map_ = p;
      const auto addr = reinterpret_cast<std::uintptr_t>(p);
      const auto aligned = (addr + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
      data_ = reinterpret_cast<Slot*>(aligned);
      if (bytes >= kHugePage) madvise(data_, bytes, MADV_HUGEPAGE);
    }
    ~Slots() {
      if (map_ != nullptr) munmap(map_, map_bytes_);
    }
    Slots(Slots&& o) noexcept { swap(o); }
    Slots& operator=(Slots&& o) noexcept {
      swap(o);
      return *this;
    }
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    void swap(Slots& o) noexcept {
      std::swap(map_, o.map_);
      std::swap(map_bytes_, o.map_bytes_);
      std::swap(data_, o.data_);
      std::swap(n_, o.n_);
    }
    Slot& operator[](std::size_t i) noexcept { return data_[i]; }
    const Slot& operator[](std::size_t i) const noexcept { return data_[i]; }
    std::size_t size() const noexcept { return n_; }

   private:
    static constexpr std::size_t kHugePage = std::size_t{2} << 20;
    void* map_ = nullptr;
    std::size_t map_bytes_ = 0;
    Slot* data_ = nullptr;
    std::size_t n_ = 0;
  };

  std::size_t mask() const noexcept { return slots_.size() - 1; }

  void grow() {
    Slots bigger(slots_.size() * 2);
    const std::size_t m = bigger.size() - 1;
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      const Slot& s = slots_[k];
      if (s.meta == 0) continue;
      std::size_t i = static_cast<std::size_t>(s.key) & m;
      while (bigger[i].meta != 0) i = (i + 1) & m;
      bigger[i] = s;
    }
    slots_.swap(bigger);
  }

  Slots slots_;
  std::size_t size_ = 0;
};

}  // namespace catalog::etl
