#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/db/runs_repository.hpp"

namespace catalog::notify {

/// The webhooks a run ending `status` owes: `defaults` (NOTIFY_URLS) and the
/// run's options.notify (its job's options when it was queued), when the
/// run's options.notify_on covers that end; `changed` says whether it
/// inserted, updated or deleted products. Options that no longer parse (they
/// failed the run) leave only the defaults, under the default notify_on.
std::vector<std::string> targets(const nlohmann::json& run_options, const std::string& status, bool changed,
                                 const std::vector<std::string>& defaults);

/// targets() for a run's recorded outcome.
std::vector<std::string> targets(const nlohmann::json& run_options, const db::RunOutcome& outcome,
                                 const std::vector<std::string>& defaults);

/// For a RunsRepository: the webhooks owed by the runs it ends itself (a
/// queued run cancelled, the stale-heartbeat sweep, a cancelled run handed
/// back by a stopping worker), by the same rules as a worker's run end.
/// `queued` is called once such webhooks are committed (wakes the deliverer).
db::RunEndNotices run_end_notices(std::vector<std::string> defaults, std::function<void()> queued = {});

}  // namespace catalog::notify
