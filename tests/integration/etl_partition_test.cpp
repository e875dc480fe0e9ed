// Large sources (docs/etl.md "Large sources"): with a tiny key-table budget a
// 20k-row feed goes through key-hash partitions on disk, and every outcome
// (counts, rejects, products, errors) is the one of the in-memory path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <pqxx/pqxx>

#include "catalog/db/migrations.hpp"
#include "catalog/etl/engine.hpp"
#include "support/engine_runs.hpp"
#include "support/scratch.hpp"
#include "support/test_env.hpp"

using namespace catalog::etl;
using namespace catalog::testing;  // create_migrated_database, make_temp_dir, kPartnerHeader, kRun1, ...

namespace {

constexpr int kRows = 20'000;
// 2048 slots: 1536 keys sized up front, 768 grown; 20k keys need 16-32 partitions.
constexpr std::size_t kTinyBudget = 48 * 1024;

struct FeedSpec {
  int rows = kRows;
  int changed_every = 0;    ///< price changes on every n-th row (0: none)
  int missing_every = 0;    ///< every n-th row absent (0: none)
  int duplicate_every = 0;  ///< after every n-th row, a repeat of a row ~5000 lines back
  int malformed_every = 0;  ///< every n-th row with a field missing
};

std::string row_of(int i, bool changed) {
  return "SKU-" + std::to_string(i) + ",Product " + std::to_string(i) + ",Description " + std::to_string(i) +
         ",Brand " + std::to_string(i % 7) + ",Cat " + std::to_string(i % 5) + "," +
         (changed ? "99.99" : std::to_string(i) + ".50") + ",USD,In Stock\n";
}

std::string feed(const FeedSpec& spec) {
  std::string s = kPartnerHeader;
  for (int i = 0; i < spec.rows; ++i) {
    if (spec.missing_every != 0 && i % spec.missing_every == 3) continue;
    if (spec.malformed_every != 0 && i % spec.malformed_every == 5) {
      s += "BAD-" + std::to_string(i) + ",only two\n";
      continue;
    }
    s += row_of(i, spec.changed_every != 0 && i % spec.changed_every == 0);
    if (spec.duplicate_every != 0 && i % spec.duplicate_every == 0 && i >= 5000) {
      const int j = i - 5000 + (i % 13);
      s += "SKU-" + std::to_string(j) + ",Again " + std::to_string(j) + ",,,,1.00,USD,In Stock\n";
    }
  }
  return s;
}

class EtlPartitions : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("etl_parts");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    dir_ = make_temp_dir("catalog-bigsrc");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunRequest request(const std::string& csv, const std::string& source, const std::string& options_json,
                     const std::string& run_id) {
    RunRequest req;
    req.source = string_source(csv, 16 * 1024);
    req.object_name = "feed.csv";
    req.source_name = source;
    req.options = JobOptions::from_json(nlohmann::json::parse(options_json));
    req.run_id = run_id;
    req.temp_dir = dir_;
    if (source == "part") req.key_table_budget_bytes = kTinyBudget;
    return req;
  }

  /// The same feed into source "mem" (default budget) and "part" (tiny
  /// budget): both must give the same result. Returns the partitioned one.
  RunResult both(const std::string& csv, const std::string& options_json = "{}", const std::string& run_id = kRun1) {
    const RunResult mem = run_feed(*conn_, request(csv, "mem", options_json, run_id));
    const RunResult part = run_feed(*conn_, request(csv, "part", options_json, run_id));
    EXPECT_EQ(mem.key_partitions, 1u);
    EXPECT_GE(part.key_partitions, 16u);
    EXPECT_GT(part.partition_spilled_bytes, 0u);
    EXPECT_EQ(mem.partition_spilled_bytes, 0u);
    EXPECT_EQ(part.read, mem.read);
    EXPECT_EQ(part.inserted, mem.inserted);
    EXPECT_EQ(part.updated, mem.updated);
    EXPECT_EQ(part.unchanged, mem.unchanged);
    EXPECT_EQ(part.rejected, mem.rejected);
    EXPECT_EQ(part.deleted, mem.deleted);
    EXPECT_EQ(rejects_text(part), rejects_text(mem));
    EXPECT_EQ(products("part"), products("mem"));
    EXPECT_TRUE(std::filesystem::is_empty(dir_)) << "the partition files have no name";
    return part;
  }

  static std::vector<std::string> rejects_text(const RunResult& r) {
    std::vector<std::string> out;
    for (const auto& j : r.first_rejects) out.push_back(std::to_string(j.line) + "|" + j.reason + "|" + j.raw);
    return out;
  }

  /// A source's products as the feed defines them (no source, xmin or timestamps).
  std::vector<std::string> products(const std::string& source) {
    pqxx::work tx(*conn_);
    std::vector<std::string> rows;
    for (const auto& r : tx.exec_params(
             "SELECT concat_ws('|', sku, name, description, brand, category, price, currency, availability, "
             "attributes::text, content_hash, deleted_at IS NOT NULL, last_run_id) FROM products WHERE source = $1 "
             "ORDER BY sku",
             source)) {
      rows.push_back(r[0].as<std::string>());
    }
    return rows;
  }

  /// Every row version of a source, to prove "untouched".
  std::vector<std::string> snapshot(const std::string& source) {
    pqxx::work tx(*conn_);
    std::vector<std::string> rows;
    for (const auto& r : tx.exec_params("SELECT concat_ws('|', sku, xmin::text, updated_at, deleted_at, last_run_id) "
                                        "FROM products WHERE source = $1 ORDER BY sku",
                                        source)) {
      rows.push_back(r[0].as<std::string>());
    }
    return rows;
  }

  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
  std::string dir_;
};

}  // namespace

TEST_F(EtlPartitions, FirstLoadRerunOnePercentDeletesAndRevivalMatchTheInMemoryPath) {
  const std::string soft = R"({"missing_rows":"soft_delete"})";
  auto r = both(feed(FeedSpec{kRows, 0, 0, 0, 0}), soft);
  EXPECT_EQ(r.inserted, static_cast<std::uint64_t>(kRows));
  EXPECT_EQ(r.key_partitions, 16u) << "a first load partitions when its table fills the budget";

  // Unchanged re-run: nothing written (the planner now knows 20k rows: sized up front).
  const auto before = snapshot("part");
  r = both(feed(FeedSpec{kRows, 0, 0, 0, 0}), soft, kRun2);
  EXPECT_EQ(r.unchanged, static_cast<std::uint64_t>(kRows));
  EXPECT_EQ(r.inserted + r.updated + r.deleted, 0u);
  EXPECT_EQ(r.key_partitions, 32u);
  EXPECT_EQ(snapshot("part"), before) << "same xmin for every row";

  // 1% changed.
  r = both(feed(FeedSpec{kRows, 100, 0, 0, 0}), soft, kRun2);
  EXPECT_EQ(r.updated, static_cast<std::uint64_t>(kRows / 100));

  // 2% missing: soft-deleted; then back again (revived = updated).
  r = both(feed(FeedSpec{kRows, 100, 50, 0, 0}), soft, kRun2);
  EXPECT_EQ(r.deleted, static_cast<std::uint64_t>(kRows / 50));
  r = both(feed(FeedSpec{kRows, 100, 0, 0, 0}), soft, kRun1);
  EXPECT_EQ(r.updated, static_cast<std::uint64_t>(kRows / 50));
  // New rows in an existing source go in through the partitions too.
  r = both(feed(FeedSpec{kRows + 3000, 100, 0, 0, 0}), soft, kRun1);
  EXPECT_EQ(r.inserted, 3000u);
}

TEST_F(EtlPartitions, DuplicatesAndRejectsKeepTheirLinesAndOrder) {
  // ~300 duplicates (more than the 100 stored rejects) spread over all
  // partitions, interleaved with malformed rows rejected while streaming.
  const std::string csv = feed(FeedSpec{kRows, 0, 0, 50, 211});
  const auto r = both(csv, R"({"max_rejects": 1000})");
  EXPECT_GT(r.rejected, 300u);
  ASSERT_EQ(r.first_rejects.size(), kMaxStoredRejects);
  for (std::size_t i = 1; i < r.first_rejects.size(); ++i) {
    EXPECT_LT(r.first_rejects[i - 1].line, r.first_rejects[i].line);
  }
  bool saw_duplicate = false;
  for (const auto& j : r.first_rejects) saw_duplicate = saw_duplicate || j.reason.rfind("duplicate key 'SKU-", 0) == 0;
  EXPECT_TRUE(saw_duplicate);
  // The re-run finds the same duplicates against existing keys.
  both(csv, R"({"max_rejects": 1000})", kRun2);

  // A count limit passed while partitions are replayed: same failure, nothing written.
  const auto before = snapshot("part");
  const std::string more = feed(FeedSpec{kRows, 0, 0, 50, 0});
  std::string messages[2];
  std::vector<std::string> stored[2];
  for (int i = 0; i < 2; ++i) {
    try {
      run_feed(*conn_, request(more, i == 0 ? "mem" : "part", R"({"max_rejects": 250})", kRun2));
      ADD_FAILURE() << "expected TooManyRejects";
    } catch (const TooManyRejects& e) {
      messages[i] = e.what();
      stored[i] = rejects_text(e.result());
    }
  }
  EXPECT_EQ(messages[1].rfind("too many rejected rows: 251 rejected of ", 0), 0u) << messages[1];
  EXPECT_EQ(messages[0].rfind("too many rejected rows: 251 rejected of ", 0), 0u) << messages[0];
  // Stopped early, each path stores the first rejects (by line) among the rows it had decided.
  ASSERT_EQ(stored[1].size(), kMaxStoredRejects);
  for (std::size_t i = 1; i < stored[1].size(); ++i) {
    EXPECT_LT(std::stoull(stored[1][i - 1]), std::stoull(stored[1][i])) << "in line order";
  }
  EXPECT_EQ(snapshot("part"), before);
}

TEST_F(EtlPartitions, MaxDeletesIsJudgedOnTheWholeSourceBeforeAnythingIsWritten) {
  const std::string soft = R"({"missing_rows":"soft_delete"})";
  both(feed(FeedSpec{kRows, 0, 0, 0, 0}), soft);
  const auto before = snapshot("part");
  // 60% missing and 1% changed: refused, the changes are not applied either.
  std::string messages[2];
  for (int i = 0; i < 2; ++i) {
    try {
      run_feed(*conn_, request(feed(FeedSpec{8000, 100, 0, 0, 0}), i == 0 ? "mem" : "part", soft, kRun2));
      ADD_FAILURE() << "expected TooManyDeletes";
    } catch (const TooManyDeletes& e) {
      messages[i] = e.what();
    }
  }
  EXPECT_EQ(messages[1].rfind("would soft-delete 12000 of 20000 live rows, more than max_deletes=0.5 (10000)", 0), 0u)
      << messages[1];
  EXPECT_EQ(messages[1], messages[0]);
  EXPECT_EQ(snapshot("part"), before);
  // Accepted by the operator: identical outcome.
  const auto r = both(feed(FeedSpec{8000, 0, 0, 0, 0}), R"({"missing_rows":"soft_delete","max_deletes":1.0})", kRun2);
  EXPECT_EQ(r.deleted, 12000u);
}

TEST_F(EtlPartitions, CancelWhileStreamingOrReplayingLeavesNothingBehind) {
  both(feed(FeedSpec{kRows, 0, 0, 0, 0}));
  const auto before = snapshot("part");
  const std::size_t fds = open_fds();
  // Polls counted from the end of the feed: 0 = during the stream, 2.. = replaying partitions.
  for (int cancel_after_feed : {-40, 2, 5, 20, 31}) {
    RunRequest req = request(feed(FeedSpec{kRows, 100, 0, 0, 0}), "part", R"({"missing_rows":"soft_delete"})", kRun2);
    bool fed = false;
    int polls_in_stream = 0;
    int polls_after = 0;
    const ByteSource inner = req.source;
    req.source = [&fed, inner](const ChunkSink& sink) {
      inner(sink);
      fed = true;
    };
    req.is_cancelled = [&] {
      if (!fed) return cancel_after_feed < 0 && ++polls_in_stream >= -cancel_after_feed;
      return cancel_after_feed > 0 && ++polls_after >= cancel_after_feed;
    };
    EXPECT_THROW(run_feed(*conn_, req), RunCancelled) << cancel_after_feed;
    EXPECT_EQ(snapshot("part"), before) << cancel_after_feed;
    EXPECT_EQ(open_fds(), fds) << "every partition file is closed after a cancel at " << cancel_after_feed;
    EXPECT_TRUE(std::filesystem::is_empty(dir_));
  }
  EXPECT_EQ(both(feed(FeedSpec{kRows, 0, 0, 0, 0})).unchanged, static_cast<std::uint64_t>(kRows));
}

TEST_F(EtlPartitions, MissingTempDirectoryFailsNamingItAndWritesNothing) {
  both(feed(FeedSpec{kRows, 0, 0, 0, 0}));
  const auto before = snapshot("part");
  const std::string missing = "/nonexistent-catalog-bigsrc-" + std::to_string(::getpid());
  for (const bool first_load : {false, true}) {
    RunRequest req = request(feed(FeedSpec{kRows, 100, 0, 0, 0}), first_load ? "part2" : "part", "{}", kRun2);
    req.key_table_budget_bytes = kTinyBudget;
    req.temp_dir = missing;
    try {
      run_feed(*conn_, req);
      ADD_FAILURE() << "expected a failure";
    } catch (const catalog::Error& e) {
      EXPECT_EQ(std::string(e.what()), "cannot create a temporary file for key partitions in TMPDIR=" + missing +
                                           ": No such file or directory");
    }
  }
  EXPECT_EQ(snapshot("part"), before);
  EXPECT_TRUE(snapshot("part2").empty());
}
