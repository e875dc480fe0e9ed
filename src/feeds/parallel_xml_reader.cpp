#include "feeds/parallel_xml_reader.hpp"

#include <algorithm>

namespace catalog::feeds {

ParallelXmlReader::ParallelXmlReader(std::size_t max_item_bytes, std::size_t piece_bytes, Callback on_record,
                                     std::function<void(csv::RecordBatch&)> on_batch)
    : max_item_bytes_(max_item_bytes),
      on_record_(std::move(on_record)),
      on_batch_(std::move(on_batch)),
      // The caller's callback itself, not a copy: a callback with state sees
      // every record, from the pieces and from the document's reader.
      head_(max_item_bytes, [this](const csv::Record& r) { on_record_(r); }),
      // A piece may hold an item as long as the longest one read in one
      // piece (raw bytes count more than its text), else the rest is read
      // as it would be on one thread.
      splitter_(piece_bytes, std::min(piece_bytes + 4 * max_item_bytes + (64 << 10),
                                      XmlReader::max_held_bytes(max_item_bytes))) {}

ParallelXmlReader::~ParallelXmlReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ParallelXmlReader::feed(std::string_view chunk) {
  if (!splitting_) {
    head_.feed(chunk);
    return;
  }
  splitter_.append(chunk);
  pump();
}

void ParallelXmlReader::finish() {
  if (splitting_) {
    splitter_.stop();
    pump();
  }
  head_.finish();
}

void ParallelXmlReader::pump() {
  for (;;) {
    const bool piece = splitter_.next_piece(piece_);
    if (const std::string prolog = splitter_.take_prolog(); !prolog.empty()) {
      head_.feed(prolog);
      // libxml2 may hold the prolog's end back (an unfinished reference, a
      // tag whose end it cannot see yet): an error there must come before
      // any item's, and at its own line, so the document is read as one.
      if (head_.held_bytes() != 0) splitter_.stop();
      continue;
    }
    if (!piece) break;
    dispatch();
  }
  if (splitter_.gave_up()) hand_over_rest();
}

/// Hands piece_ to a worker (its buffer swapped for the job's old one).
void ParallelXmlReader::dispatch() {
  if (jobs_.size() == kInFlight) deliver_oldest();
  std::unique_ptr<Job> job;
  if (spare_.empty()) {
    job = std::make_unique<Job>();
  } else {
    job = std::move(spare_.back());
    spare_.pop_back();
  }
  job->document.swap(piece_.document);
  job->origin = XmlReader::Origin{piece_.line, piece_.column, splitter_.wrapper_columns()};
  job->records.clear();
  job->error = nullptr;
  job->done = false;
  if (workers_.empty()) {
    for (std::size_t i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { work(); });
  }
  {
    std::lock_guard lock(mutex_);
    todo_.push_back(job.get());
  }
  changed_.notify_all();
  jobs_.push_back(std::move(job));
}

/// Waits for the oldest piece, hands its records on, then its error if any.
void ParallelXmlReader::deliver_oldest() {
  std::unique_ptr<Job> job = std::move(jobs_.front());
  jobs_.pop_front();
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&job] { return job->done; });
  }
  if (on_batch_) {
    on_batch_(job->records);
  } else {
    csv::RecordBatch::Cursor cursor(job->records);
    while (cursor.next(record_)) on_record_(record_);
  }
  if (job->error) std::rethrow_exception(job->error);
  spare_.push_back(std::move(job));
}

/// The splitter gave up: after the pieces' records, the document's reader
/// reads every remaining byte, counting the pieces' lines as its own.
void ParallelXmlReader::hand_over_rest() {
  while (!jobs_.empty()) deliver_oldest();
  splitting_ = false;
  if (splitter_.any_piece()) head_.skip_to(splitter_.piece_lines(), splitter_.column());
  head_.feed(splitter_.take_rest());
}

void ParallelXmlReader::work() {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return stopping_ || !todo_.empty(); });
      if (stopping_) return;
      job = todo_.front();
      todo_.pop_front();
    }
    try {
      parse(*job);
    } catch (...) {
      job->error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      job->done = true;
    }
    changed_.notify_all();
  }
}

void ParallelXmlReader::parse(Job& job) const {
  XmlReader reader(max_item_bytes_, [&job](const csv::Record& r) { job.records.add(r); }, job.origin);
  reader.feed(job.document);
  reader.finish();
}

}  // namespace catalog::feeds
