#pragma once
// A feed read on a thread of its own (private to src/etl). Download,
// decompression and parsing run there; the records reach the pipeline's
// thread in batches of copied bytes, at most kBatches in flight, so a format
// that costs more to parse than a row costs to decide (XML, NDJSON) overlaps
// the decisions instead of preceding each of them. Memory stays bounded:
// kBatches × (kBatchBytes + the longest record).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/csv/csv_reader.hpp"
#include "catalog/csv/record_batch.hpp"

namespace catalog::etl {

class ReadAhead {
 public:
  static constexpr std::size_t kBatches = 4;
  static constexpr std::size_t kBatchBytes = 256 << 10;
  static constexpr std::size_t kBatchRecords = 2048;

  /// Reads the whole feed on the reading thread, handing each record to
  /// push(); check_stopped() lets it notice a stop between records.
  using Produce = std::function<void(ReadAhead&)>;

  /// Starts the reading thread. `on_wait` runs on the caller's thread every
  /// `wait_poll` while next() waits (a cancel check: it may throw).
  ReadAhead(Produce produce, std::function<void()> on_wait, std::chrono::milliseconds wait_poll);
  /// Stops the reading thread (it ends at its next record or chunk) and joins it.
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// Caller's thread: the next record in feed order, valid until the next
  /// call; nullptr after the last. Rethrows what the reading thread threw.
  const csv::Record* next();

  /// Reading thread: copies one record into the current batch.
  void push(const csv::Record& record);
  /// Reading thread: hands `batch`'s records over whole, after those pushed
  /// before; `batch` gets an empty one's buffers back, for reuse.
  void push_batch(csv::RecordBatch& batch);
  /// Reading thread: throws (ending the read) once the caller has stopped.
  void check_stopped() const;

 private:
  using Batch = csv::RecordBatch;

  void run(const Produce& produce);
  void publish();
  void stop();

  std::function<void()> on_wait_;
  std::chrono::milliseconds wait_poll_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> full_;  ///< read, not yet taken
  std::vector<std::unique_ptr<Batch>> free_;  ///< taken and done with, for reuse
  bool done_ = false;                         ///< the reading thread has ended
  std::atomic<bool> stopped_{false};          ///< the caller wants no more (set under mutex_)
  std::exception_ptr error_;

  std::unique_ptr<Batch> filling_;  ///< reading thread's
  std::unique_ptr<Batch> reading_;  ///< caller's
  std::optional<Batch::Cursor> cursor_;  ///< where the caller is in reading_
  csv::Record record_;
  std::thread thread_;
};

}  // namespace catalog::etl
