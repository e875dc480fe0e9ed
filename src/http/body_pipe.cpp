#include "http/body_pipe.hpp"

#include <algorithm>
#include <cstring>

#include "catalog/core/errors.hpp"

namespace catalog::http {

bool BodyPipe::push(std::string chunk) {
  std::lock_guard lock(mutex_);
  if (consumer_closed_) return false;
  chunks_.push_back(std::move(chunk));
  ready_.notify_all();
  if (chunks_.size() >= kMaxChunks) {
    paused_ = true;
    return false;
  }
  return true;
}

void BodyPipe::finish() {
  std::lock_guard lock(mutex_);
  done_ = true;
  ready_.notify_all();
}

void BodyPipe::fail(std::exception_ptr error) {
  std::lock_guard lock(mutex_);
  if (!error_) error_ = std::move(error);
  ready_.notify_all();
}

void BodyPipe::close_consumer() {
  std::lock_guard lock(mutex_);
  consumer_closed_ = true;
  chunks_.clear();
}

std::size_t BodyPipe::read(char* out, std::size_t capacity) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (error_) std::rethrow_exception(error_);
    if (!chunks_.empty()) {
      auto& front = chunks_.front();
      const std::size_t n = std::min(capacity, front.size() - offset_);
      std::memcpy(out, front.data() + offset_, n);
      offset_ += n;
      if (offset_ == front.size()) {
        chunks_.pop_front();
        offset_ = 0;
      }
      const bool wake = paused_ && chunks_.size() < kMaxChunks;
      if (wake) paused_ = false;
      lock.unlock();
      if (wake) resume_();
      return n;
    }
    if (done_) return 0;
    if (paused_) {
      paused_ = false;
      lock.unlock();
      resume_();
      lock.lock();
      continue;
    }
    // The session's read timeout fails the pipe first; this only guards
    // against a producer that can no longer run (the server stopping).
    if (!ready_.wait_for(lock, consumer_timeout_, [this] { return error_ || done_ || !chunks_.empty(); })) {
      throw BadRequest("request body stalled");
    }
  }
}

}  // namespace catalog::http
