#pragma once
// Cancellation and timing helpers shared by the ETL stages (private to src/etl).

#include <chrono>

#include "catalog/etl/engine.hpp"

namespace catalog::etl {

using Clock = std::chrono::steady_clock;

inline bool cancelled(const RunRequest& req) { return req.is_cancelled && req.is_cancelled(); }

/// Seconds since `since`, which moves to now.
inline double lap(Clock::time_point& since) {
  const auto now = Clock::now();
  const double s = std::chrono::duration<double>(now - since).count();
  since = now;
  return s;
}

}  // namespace catalog::etl
