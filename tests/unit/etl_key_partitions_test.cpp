// Key-hash partitions of a large source (src/etl/key_partitions): routing,
// partition counts, and the temporary files' round trip.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "catalog/core/errors.hpp"
#include "catalog/etl/normalizer.hpp"
#include "etl/key_partitions.hpp"
#include "support/scratch.hpp"

using namespace catalog::etl;
using catalog::testing::make_temp_dir;
using catalog::testing::open_fds;

TEST(EtlKeyPartitions, PartitionIsTheTopBitsAndRefinesWhenBitsGrow) {
  EXPECT_EQ(partition_of(0xFFFF'FFFF'FFFF'FFFFull, 0), 0u);
  EXPECT_EQ(partition_of(0xFFFF'FFFF'FFFF'FFFFull, 4), 15u);
  EXPECT_EQ(partition_of(0x1000'0000'0000'0000ull, 4), 1u);
  EXPECT_EQ(partition_of(0x0FFF'FFFF'FFFF'FFFFull, 4), 0u);
  for (std::uint64_t k : {0x0123'4567'89AB'CDEFull, 0xFEDC'BA98'7654'3210ull, 42ull}) {
    EXPECT_EQ(partition_of(k, 5) >> 1, partition_of(k, 4)) << k;
  }
}

TEST(EtlKeyPartitions, RealSkuHashesSpreadEvenly) {
  std::vector<std::uint64_t> counts(16);
  constexpr int kKeys = 160'000;
  for (int i = 0; i < kKeys; ++i) ++counts[partition_of(key_hash("SKU-" + std::to_string(i)), 4)];
  for (std::size_t p = 0; p < counts.size(); ++p) {
    EXPECT_NEAR(static_cast<double>(counts[p]), kKeys / 16.0, kKeys / 16.0 * 0.05) << p;
  }
}

TEST(EtlKeyPartitions, BitsGiveEachPartitionHalfOfWhatTheBudgetHolds) {
  EXPECT_EQ(partition_bits(0, 3'000'000), kMinPartitionBits);           // grown: 16
  EXPECT_EQ(partition_bits(10'000'000, 3'145'728), kMinPartitionBits);  // 10M at the default budget: 16
  EXPECT_EQ(partition_bits(30'000'000, 3'145'728), 5u);
  EXPECT_EQ(partition_bits(20'000, 1536), 5u);  // 32 × 768 >= 20k
  EXPECT_EQ(partition_bits(1'000'000'000, 1000), kMaxPartitionBits);
}

TEST(EtlKeyPartitions, MaxKeysWithinABudget) {
  EXPECT_EQ(KeyTable::max_keys_within(96u << 20), 3u << 20);  // 4M slots
  EXPECT_EQ(KeyTable::max_keys_within(95u << 20), 3u << 19);  // 2M slots
  EXPECT_EQ(KeyTable::max_keys_within(48u << 10), 1536u);
  EXPECT_EQ(KeyTable::max_keys_within(1), 768u);  // the smallest table
  EXPECT_EQ(KeyTable::capacity_for(KeyTable::max_keys_within(96u << 20)) * sizeof(KeyTable::Slot), 96u << 20);
}

TEST(EtlKeyPartitions, RecordsComeBackInOrderAndTheFilesAreGone) {
  const std::string dir = make_temp_dir("catalog-parts");
  const std::size_t fds = open_fds();
  {
    PartitionFiles files(dir, 4);
    EXPECT_EQ(files.count(), 16u);
    EXPECT_EQ(open_fds(), fds + 15) << "one unnamed file per partition but 0";
    EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the files have no name";
    // Partition 3: keys, rows (one far larger than the read chunk), a key again.
    const std::string big(3 << 20, 'x');
    std::vector<std::string> encoded;
    encoded.reserve(5000);
    for (int i = 0; i < 5000; ++i) {
      files.add_key(3, KeyTable::Slot{static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(i) * 7,
                                      static_cast<std::uint32_t>(i), KeyTable::kUsed | KeyTable::kInDb});
    }
    for (int i = 0; i < 5000; ++i) {
      const std::string sku = "SKU-" + std::to_string(i);
      const std::vector<std::string_view> fields =
          i == 10 ? std::vector<std::string_view>{} : std::vector<std::string_view>{sku, "", i == 4000 ? std::string_view(big) : std::string_view("x")};
      encoded.emplace_back();
      encode_fields(fields, encoded.back());
      DeferredRow r;
      r.key = 1000u + static_cast<unsigned>(i);
      r.check = 9;
      r.content = 77;
      r.line = static_cast<std::uint64_t>(i) + 2;
      r.fields = encoded.back();
      files.add_row(3, r);
    }
    files.add_key(3, KeyTable::Slot{1, 2, 3, KeyTable::kUsed | 17});
    files.add_key(7, KeyTable::Slot{5, 6, 7, KeyTable::kUsed});
    EXPECT_EQ(files.keys(3), 5001u);
    EXPECT_EQ(files.rows(3), 5000u);
    EXPECT_EQ(files.keys(7), 1u);

    std::vector<std::string> order;
    int keys = 0;
    int rows = 0;
    files.replay(
        3,
        [&](const KeyTable::Slot& s) {
          if (keys < 5000) {
            EXPECT_EQ(rows, 0);
            EXPECT_EQ(s.key, static_cast<std::uint64_t>(keys));
            EXPECT_EQ(s.content, static_cast<std::uint64_t>(keys) * 7);
          } else {
            EXPECT_EQ(rows, 5000);
            EXPECT_EQ(KeyTable::line_of(s), 17u);
          }
          ++keys;
        },
        [&](const DeferredRow& r) {
          EXPECT_EQ(r.line, static_cast<std::uint64_t>(rows) + 2);
          std::vector<std::string_view> fields;
          decode_fields(r.fields, fields);
          if (rows == 10) {
            EXPECT_TRUE(fields.empty());
          } else {
            ASSERT_EQ(fields.size(), 3u);
            EXPECT_EQ(fields[0], "SKU-" + std::to_string(rows));
            EXPECT_EQ(fields[1], "");
            EXPECT_EQ(fields[2].size(), rows == 4000 ? big.size() : 1u);
          }
          ++rows;
        });
    EXPECT_EQ(keys, 5001);
    EXPECT_EQ(rows, 5000);
    EXPECT_GT(files.bytes(), big.size());
    EXPECT_EQ(open_fds(), fds + 14) << "a replayed partition's file is closed at once";
  }
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST(EtlKeyPartitions, DamagedFieldsAreAnError) {
  std::string encoded;
  encode_fields({"a", "bc"}, encoded);
  std::vector<std::string_view> fields;
  EXPECT_THROW(decode_fields(std::string_view(encoded).substr(0, encoded.size() - 1), fields), catalog::Error);
}

TEST(EtlKeyPartitions, MissingDirectoryIsNamedAndLeavesNoDescriptor) {
  const std::size_t fds = open_fds();
  try {
    PartitionFiles files("/nonexistent-catalog-parts", 4);
    FAIL() << "expected an error";
  } catch (const catalog::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot create a temporary file for key partitions in TMPDIR=/nonexistent-catalog-parts: "
              "No such file or directory");
  }
  EXPECT_EQ(open_fds(), fds);
}
