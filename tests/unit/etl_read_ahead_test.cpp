// ReadAhead: a feed parsed on a thread of its own reaches the pipeline's
// thread whole, in order, within its memory bound, and every way a run can
// end (the feed's end, a reading error, a stop, a cancel while waiting) ends
// the reading thread too.
#include "etl/read_ahead.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace catalog::etl {
namespace {

using namespace std::chrono_literals;

/// Record i: line 2i+1, i % 5 fields ("i.0", "i.1", ... with an empty one
/// at 3), an error on every 97th.
csv::Record make_record(std::size_t i, std::vector<std::string>& storage) {
  storage.clear();
  for (std::size_t f = 0; f < i % 5; ++f) storage.push_back(f == 3 ? "" : std::to_string(i) + "." + std::to_string(f));
  csv::Record r;
  r.line = 2 * i + 1;
  for (const auto& s : storage) r.fields.emplace_back(s);
  if (i % 97 == 0) r.error = "bad record " + std::to_string(i);
  return r;
}

/// Reads `ahead` to its end, requiring make_record(0), make_record(1), ...;
/// returns how many came.
std::size_t expect_records_in_order(ReadAhead& ahead) {
  std::vector<std::string> storage;
  std::size_t n = 0;
  while (const csv::Record* r = ahead.next()) {
    const csv::Record want = make_record(n, storage);
    EXPECT_EQ(r->line, want.line) << n;
    EXPECT_EQ(r->error, want.error) << n;
    EXPECT_EQ(r->fields, want.fields) << n;
    if (r->line != want.line) break;
    ++n;
  }
  return n;
}

TEST(ReadAhead, DeliversEveryRecordInOrderWithItsLineFieldsAndError) {
  constexpr std::size_t kRecords = 10 * ReadAhead::kBatchRecords + 7;  // many batches, the last one partial
  ReadAhead ahead(
      [](ReadAhead& out) {
        std::vector<std::string> storage;
        for (std::size_t i = 0; i < kRecords; ++i) out.push(make_record(i, storage));
      },
      [] {}, 10ms);
  EXPECT_EQ(expect_records_in_order(ahead), kRecords);
  EXPECT_EQ(ahead.next(), nullptr) << "the end stays the end";
}

TEST(ReadAhead, WholeBatchesKeepTheirPlaceAmongSingleRecords) {
  // As the XML pieces arrive: some records one by one, some in whole batches.
  constexpr std::size_t kRecords = 5000;
  ReadAhead ahead(
      [](ReadAhead& out) {
        std::vector<std::string> storage;
        csv::RecordBatch batch;
        for (std::size_t i = 0; i < kRecords; ++i) {
          const csv::Record r = make_record(i, storage);
          if ((i / 300) % 2 == 0) {
            out.push(r);
            continue;
          }
          batch.add(r);
          if (i % 300 == 299) {
            out.push_batch(batch);
            EXPECT_EQ(batch.records(), 0u) << "handed over whole, an empty one back";
          }
        }
        out.push_batch(batch);
      },
      [] {}, 10ms);
  EXPECT_EQ(expect_records_in_order(ahead), kRecords);
}

TEST(ReadAhead, ReadsAtMostItsBatchesAheadOfASlowCaller) {
  constexpr std::size_t kRecords = 20'000;
  const std::string kilobyte(1024, 'x');
  std::atomic<std::size_t> pushed{0};
  ReadAhead ahead(
      [&](ReadAhead& out) {
        csv::Record r;
        r.fields.emplace_back(kilobyte);
        for (std::size_t i = 0; i < kRecords; ++i) {
          r.line = i + 1;
          out.push(r);
          ++pushed;
        }
      },
      [] {}, 10ms);
  // The caller is busy: the reader reads ahead its kBatches, then waits.
  const std::size_t per_batch = ReadAhead::kBatchBytes / kilobyte.size();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (pushed.load() < ReadAhead::kBatches * per_batch && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GE(pushed.load(), ReadAhead::kBatches * per_batch) << "the reader does read ahead";
  std::this_thread::sleep_for(200ms);
  // kBatches handed over plus the one being filled.
  EXPECT_LE(pushed.load(), (ReadAhead::kBatches + 1) * per_batch) << "20 MB of feed would otherwise sit in memory";
  std::size_t n = 0;
  while (const csv::Record* r = ahead.next()) {
    ASSERT_EQ(r->line, ++n);
    ASSERT_EQ(r->fields.at(0).size(), kilobyte.size());
  }
  EXPECT_EQ(n, kRecords);
}

TEST(ReadAhead, AReadingErrorReachesTheCallerAfterTheRecordsBeforeIt) {
  ReadAhead ahead(
      [](ReadAhead& out) {
        csv::Record r;
        for (std::uint64_t line = 1; line <= 3; ++line) {
          r.line = line;
          out.push(r);
        }
        throw std::runtime_error("XML feed is malformed at line 4");
      },
      [] {}, 10ms);
  std::uint64_t lines = 0;
  try {
    while (const csv::Record* r = ahead.next()) lines += r->line;
    ADD_FAILURE() << "the reading error was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "XML feed is malformed at line 4");
  }
  EXPECT_EQ(lines, 1u + 2u + 3u) << "every record before the error first";
}

TEST(ReadAhead, ACallerThatStopsEarlyEndsTheReadingThread) {
  std::atomic<bool> reader_ended{false};
  {
    ReadAhead ahead(
        [&](ReadAhead& out) {
          csv::Record r;
          try {
            for (std::uint64_t line = 1;; ++line) {  // an endless feed
              r.line = line;
              out.push(r);
            }
          } catch (...) {
            reader_ended = true;
            throw;
          }
        },
        [] {}, 10ms);
    for (int i = 0; i < 10; ++i) ASSERT_NE(ahead.next(), nullptr);
    // Leaving the scope (as a run that hit max_rejects does) stops and joins the reader.
  }
  EXPECT_TRUE(reader_ended.load());
}

TEST(ReadAhead, ACallerWaitingOnASilentFeedStillChecksForACancel) {
  std::atomic<int> waits{0};
  ReadAhead ahead(
      [](ReadAhead& out) {
        for (;;) {  // a download that delivers nothing, as a stalled S3 read
          out.check_stopped();
          std::this_thread::sleep_for(5ms);
        }
      },
      [&] {
        if (++waits == 3) throw std::runtime_error("run cancelled");
      },
      10ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(ahead.next(), std::runtime_error);
  EXPECT_EQ(waits.load(), 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace catalog::etl
