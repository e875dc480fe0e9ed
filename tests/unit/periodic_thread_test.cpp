// The background loop of the run heartbeat and the key writer: it runs its
// task every period, and stop() ends it at once rather than after a period
// (a shutdown or a finished run must not wait out a 5 s heartbeat).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "catalog/core/periodic_thread.hpp"
#include "support/timing.hpp"

namespace catalog {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicThread, RunsEveryPeriodAndStopsWithoutWaitingOutThePeriod) {
  std::atomic<int> runs{0};
  PeriodicThread thread;
  thread.start(10ms, [&] { ++runs; });
  EXPECT_TRUE(testing::wait_until([&] { return runs.load() >= 3; }, 10s)) << "the task ran " << runs.load() << " times";

  PeriodicThread slow;
  std::atomic<int> slow_runs{0};
  slow.start(1h, [&] { ++slow_runs; });
  const auto asked = std::chrono::steady_clock::now();
  slow.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "stop() waited for the period";
  EXPECT_EQ(slow_runs.load(), 0) << "OnStop::skip: no run on the way out";
  slow.stop();  // twice is fine
}

TEST(PeriodicThread, RunOnceMoreWritesWhatIsPendingAtStopAndItCanStartAgain) {
  std::atomic<int> runs{0};
  PeriodicThread thread;
  thread.start(1h, [&] { ++runs; }, PeriodicThread::OnStop::run_once_more);
  thread.stop();
  EXPECT_EQ(runs.load(), 1) << "the last run on the way out";
  thread.start(10ms, [&] { ++runs; });
  EXPECT_TRUE(testing::wait_until([&] { return runs.load() >= 2; }, 10s)) << "started again after stop()";
}

}  // namespace
}  // namespace catalog
