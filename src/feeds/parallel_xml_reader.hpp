#pragma once
// An XML feed parsed on more than one thread (private to src/feeds). The
// caller's thread cuts the document into pieces of whole items
// (xml_splitter.hpp); worker threads parse each piece with its own XmlReader
// inside the document's enclosing start tags; the caller's thread hands the
// records on in document order, a piece's error after the records before it.
// The prolog and, once the splitter gives up, every remaining byte go to the
// document's own XmlReader, so what is accepted, refused or rejected, and
// every line number, is what one reader would say. Memory: at most
// kInFlight pieces and their records, plus the splitter's bound.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/csv/record_batch.hpp"
#include "feeds/xml_reader.hpp"
#include "feeds/xml_splitter.hpp"

namespace catalog::feeds {

class ParallelXmlReader final : public RecordReader {
 public:
  static constexpr std::size_t kWorkers = 2;
  static constexpr std::size_t kInFlight = 2 * kWorkers;

  /// Pieces of about `piece_bytes` (at least one item each). A piece's
  /// records go to `on_batch` whole when it is set, else to `on_record`.
  ParallelXmlReader(std::size_t max_item_bytes, std::size_t piece_bytes, Callback on_record,
                    std::function<void(csv::RecordBatch&)> on_batch = nullptr);
  /// Stops the workers (each ends after its current piece) and joins them.
  ~ParallelXmlReader() override;
  ParallelXmlReader(const ParallelXmlReader&) = delete;
  ParallelXmlReader& operator=(const ParallelXmlReader&) = delete;

  void feed(std::string_view chunk) override;
  void finish() override;

 private:
  struct Job {
    std::string document;  ///< the wrapper's start tags, the piece, the wrapper's end tags
    XmlReader::Origin origin;
    csv::RecordBatch records;
    std::exception_ptr error;
    bool done = false;  ///< under mutex_
  };

  void pump();
  void dispatch();
  void deliver_oldest();
  void hand_over_rest();
  void work();
  void parse(Job& job) const;

  const std::size_t max_item_bytes_;
  Callback on_record_;
  std::function<void(csv::RecordBatch&)> on_batch_;
  XmlReader head_;  ///< the document's own reader: the prolog, and the rest once the split ends
  XmlSplitter splitter_;
  XmlSplitter::Piece piece_;
  bool splitting_ = true;
  std::deque<std::unique_ptr<Job>> jobs_;   ///< dispatched, in document order
  std::vector<std::unique_ptr<Job>> spare_;  ///< delivered, for reuse
  csv::Record record_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job*> todo_;  ///< dispatched, not yet taken by a worker
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace catalog::feeds
