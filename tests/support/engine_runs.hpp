#pragma once

// What the tests that call the ETL engine directly (etl::run_feed, without a
// job or a job_runs row) share: the partner CSV header and two run ids.

#include <string>

#include "support/feed_builder.hpp"

namespace catalog::testing {

/// kPartnerColumns as a CSV header line (with its newline).
inline const std::string kPartnerHeader = FeedBuilder().csv();

/// Run ids for RunRequest::run_id: the first run and the one after it.
inline constexpr const char* kRun1 = "11111111-1111-1111-1111-111111111111";
inline constexpr const char* kRun2 = "22222222-2222-2222-2222-222222222222";

}  // namespace catalog::testing
