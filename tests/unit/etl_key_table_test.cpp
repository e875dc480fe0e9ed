#include "etl/key_table.hpp"

#include <gtest/gtest.h>

#include "catalog/etl/normalizer.hpp"

namespace catalog::etl {
namespace {

std::string sku(int i) { return "SKU-" + std::to_string(i); }

TEST(KeyTableTest, KeepsEveryKeyAndItsStateAcrossGrowth) {
  KeyTable table;  // starts small: 100k keys force many doublings
  for (int i = 0; i < 100'000; ++i) {
    const auto s = sku(i);
    KeyTable::Slot& slot = table.find_or_insert(key_hash(s), key_check(s));
    slot.content = static_cast<std::uint64_t>(i) * 7;
    slot.meta |= KeyTable::kInDb | (i % 3 == 0 ? KeyTable::kDeleted : 0);
  }
  EXPECT_EQ(table.size(), 100'000u);
  for (int i = 0; i < 100'000; ++i) {
    const auto s = sku(i);
    const KeyTable::Slot* slot = table.find(key_hash(s), key_check(s));
    ASSERT_NE(slot, nullptr) << s;
    EXPECT_EQ(slot->content, static_cast<std::uint64_t>(i) * 7);
    EXPECT_EQ((slot->meta & KeyTable::kDeleted) != 0, i % 3 == 0) << s;
  }
  EXPECT_EQ(table.find(key_hash("SKU-unknown"), key_check("SKU-unknown")), nullptr);
  std::size_t visited = 0;
  table.for_each([&](const KeyTable::Slot&) { ++visited; });
  EXPECT_EQ(visited, 100'000u);
}

TEST(KeyTableTest, FindOrInsertReturnsTheSameSlotForTheSameKey) {
  KeyTable table;
  KeyTable::Slot& first = table.find_or_insert(key_hash("A"), key_check("A"));
  KeyTable::mark_seen(first, 12);
  KeyTable::Slot& again = table.find_or_insert(key_hash("A"), key_check("A"));
  EXPECT_EQ(&first, &again);
  EXPECT_EQ(KeyTable::line_of(again), 12u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(KeyTableTest, ExpectedKeysSizeTheTableSoLoadingThemNeverGrowsIt) {
  KeyTable table(300'000);
  const std::size_t capacity = table.capacity();
  EXPECT_GE(capacity * 3, 300'000u * 4);
  for (int i = 0; i < 300'000; ++i) {
    const auto s = sku(i);
    table.find_or_insert(key_hash(s), key_check(s));
  }
  EXPECT_EQ(table.capacity(), capacity);
}

TEST(KeyTableTest, LineNumbersSaturateInsteadOfWrappingIntoTheFlags) {
  KeyTable table;
  KeyTable::Slot& slot = table.find_or_insert(key_hash("A"), key_check("A"));
  slot.meta |= KeyTable::kInDb;
  KeyTable::mark_seen(slot, std::uint64_t{1} << 40);
  EXPECT_EQ(KeyTable::line_of(slot), KeyTable::kLineMask);
  EXPECT_NE(slot.meta & KeyTable::kInDb, 0u);
  EXPECT_EQ(slot.meta & KeyTable::kDeleted, 0u);
}

}  // namespace
}  // namespace catalog::etl
