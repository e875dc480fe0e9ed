#pragma once

#include <chrono>

namespace catalog {

/// Injectable wall clock so signer and ETL tests can pin the time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that stays where the test puts it.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point t) : t_(t) {}
  std::chrono::system_clock::time_point now() const override { return t_; }
  void set(std::chrono::system_clock::time_point t) { t_ = t; }
  void advance(std::chrono::seconds s) { t_ += s; }

 private:
  std::chrono::system_clock::time_point t_;
};

}  // namespace catalog
