#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>

namespace catalog::http {

/// The bounded handoff of a streamed body between the session (producer, on
/// its strand) and the handler (consumer, on a worker thread). At most
/// kMaxChunks chunks wait here: when the queue is full the session stops
/// reading from the socket until the consumer makes room (backpressure), so
/// memory stays at a few chunks whatever the body's size. The producer also
/// starts only on the consumer's first read, so a request the handler
/// rejects up front (401, 404, 409, 415) never has its body read, and a
/// client waiting for "100 Continue" never sends it.
class BodyPipe {
 public:
  static constexpr std::size_t kMaxChunks = 4;

  BodyPipe(std::function<void()> resume, std::chrono::steady_clock::duration consumer_timeout)
      : resume_(std::move(resume)), consumer_timeout_(consumer_timeout) {}

  /// Producer: queues a chunk. Returns false when the producer must stop
  /// reading (queue full, or the consumer is gone); `resume` is called when
  /// it may go on.
  bool push(std::string chunk);
  /// Producer: the body is complete.
  void finish();
  /// Producer (or shutdown): the body will not be completed.
  void fail(std::exception_ptr error);
  /// Consumer: the handler has returned; later chunks are dropped.
  void close_consumer();
  /// Consumer: copies up to `capacity` bytes; 0 at the end of the body.
  std::size_t read(char* out, std::size_t capacity);

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> chunks_;
  std::size_t offset_ = 0;    // into chunks_.front()
  bool paused_ = true;        // the producer waits for resume_() (initially: for the first read)
  bool done_ = false;
  bool consumer_closed_ = false;
  std::exception_ptr error_;
  std::function<void()> resume_;
  std::chrono::steady_clock::duration consumer_timeout_;
};

}  // namespace catalog::http
