#include "etl/read_ahead.hpp"

#include <string_view>

namespace catalog::etl {
namespace {

/// Ends the reading thread's work once the caller has stopped (never escapes it).
struct Stopped {};

}  // namespace

ReadAhead::ReadAhead(Produce produce, std::function<void()> on_wait, std::chrono::milliseconds wait_poll)
    : on_wait_(std::move(on_wait)), wait_poll_(wait_poll), filling_(std::make_unique<Batch>()) {
  thread_ = std::thread([this, produce = std::move(produce)] { run(produce); });
}

ReadAhead::~ReadAhead() {
  stop();
  thread_.join();
}

void ReadAhead::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  changed_.notify_all();
}

void ReadAhead::run(const Produce& produce) {
  std::exception_ptr error;
  bool stopped = false;
  try {
    produce(*this);
  } catch (const Stopped&) {
    stopped = true;
  } catch (...) {
    error = std::current_exception();
  }
  // The records read before the end or the error go first, as on one thread.
  try {
    if (!stopped && filling_->records() != 0) publish();
  } catch (const Stopped&) {
  } catch (...) {
    if (!error) error = std::current_exception();
  }
  std::lock_guard lock(mutex_);
  error_ = error;
  done_ = true;
  changed_.notify_all();
}

void ReadAhead::check_stopped() const {
  if (stopped_.load(std::memory_order_relaxed)) throw Stopped{};
}

void ReadAhead::push(const csv::Record& record) {
  Batch& b = *filling_;
  b.add(record);
  if (b.bytes() >= kBatchBytes || b.records() >= kBatchRecords) publish();
}

void ReadAhead::push_batch(csv::RecordBatch& batch) {
  if (batch.records() == 0) return;
  if (filling_->records() != 0) publish();
  filling_->swap(batch);  // filling_ is empty now: batch gets its buffers
  publish();
}

/// Hands the filled batch over, waiting while kBatches are in flight, and
/// takes a spare one to fill next.
void ReadAhead::publish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return stopped_ || full_.size() < kBatches; });
  if (stopped_) throw Stopped{};
  full_.push_back(std::move(filling_));
  if (free_.empty()) {
    filling_ = std::make_unique<Batch>();
  } else {
    filling_ = std::move(free_.back());
    free_.pop_back();
  }
  changed_.notify_all();
}

const csv::Record* ReadAhead::next() {
  while (!cursor_ || !cursor_->next(record_)) {
    cursor_.reset();
    std::unique_lock lock(mutex_);
    if (reading_) {
      reading_->clear();
      free_.push_back(std::move(reading_));
    }
    while (full_.empty() && !done_) {
      if (changed_.wait_for(lock, wait_poll_) == std::cv_status::timeout) {
        lock.unlock();
        on_wait_();  // may throw: the destructor then stops the reading thread
        lock.lock();
      }
    }
    if (full_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return nullptr;
    }
    reading_ = std::move(full_.front());
    full_.pop_front();
    changed_.notify_all();
    cursor_.emplace(*reading_);
  }
  return &record_;
}

}  // namespace catalog::etl
