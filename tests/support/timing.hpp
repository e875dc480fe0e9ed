#pragma once

// Time in tests that must hold on a loaded 2-core machine and under ASan.
//
// - `scaled(d)`: a bound a user would notice (a request answered "at once",
//   a shutdown "within its timeout") multiplied under sanitizers, which run
//   the same code several times slower. Use it for every wall-clock bound.
// - `wait_until(pred, limit)`: polls for the event instead of sleeping a fixed
//   time and hoping it happened; `limit` is a generous deadline (it is only
//   reached when the test fails), scaled too.

#include <chrono>
#include <functional>
#include <thread>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CATALOG_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CATALOG_TEST_SANITIZED 1
#endif
#endif
#ifndef CATALOG_TEST_SANITIZED
#define CATALOG_TEST_SANITIZED 0
#endif

namespace catalog::testing {

/// True in the ASan (+UBSan) build.
inline constexpr bool kSanitized = CATALOG_TEST_SANITIZED != 0;
/// How much slower a sanitized build may be before a bound fails.
inline constexpr int kSanitizerSlowdown = kSanitized ? 4 : 1;

template <class Rep, class Period>
constexpr std::chrono::milliseconds scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d) * kSanitizerSlowdown;
}

/// Polls `done` every `step` until it returns true (-> true) or `limit`
/// (scaled) passes (-> false, after one last look).
template <class Rep, class Period>
bool wait_until(const std::function<bool()>& done, std::chrono::duration<Rep, Period> limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + scaled(limit);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

}  // namespace catalog::testing
