#include "catalog/notify/targets.hpp"

#include <algorithm>
#include <utility>

#include "catalog/etl/job_options.hpp"

namespace catalog::notify {

std::vector<std::string> targets(const nlohmann::json& run_options, const std::string& status, bool changed,
                                 const std::vector<std::string>& defaults) {
  etl::JobOptions options;
  try {
    options = etl::JobOptions::from_json(run_options);
  } catch (const std::exception&) {
    // Options that no longer parse failed the run; the defaults still hear of it.
  }
  if (!options.notifies(status, changed)) return {};
  std::vector<std::string> urls = defaults;
  for (const auto& url : options.notify) {
    if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
  }
  return urls;
}

std::vector<std::string> targets(const nlohmann::json& run_options, const db::RunOutcome& outcome,
                                 const std::vector<std::string>& defaults) {
  const auto& c = outcome.counts;
  return targets(run_options, outcome.status, c.inserted + c.updated + c.deleted > 0, defaults);
}

db::RunEndNotices run_end_notices(std::vector<std::string> defaults, std::function<void()> queued) {
  db::RunEndNotices notices;
  notices.targets = [defaults = std::move(defaults)](const db::Run& ended) {
    const auto& c = ended.counts;
    return targets(ended.options, ended.status, c.inserted + c.updated + c.deleted > 0, defaults);
  };
  notices.queued = std::move(queued);
  return notices;
}

}  // namespace catalog::notify
