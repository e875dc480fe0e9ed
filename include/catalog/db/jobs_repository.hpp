#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/db/pool.hpp"
#include "catalog/db/runs_repository.hpp"

namespace catalog::db {

struct Job {
  std::string id;
  std::string source;
  std::string uri;
  nlohmann::json options = nlohmann::json::object();
  std::string created_at;
  std::string updated_at;
};

class JobsRepository {
 public:
  /// `notices`: what a queued run cancelled by remove() owes (as RunsRepository's).
  explicit JobsRepository(Pool& pool, RunEndNotices notices = {}) : pool_(pool), notices_(std::move(notices)) {}

  /// Creates or replaces; `created` tells which (201 vs 200).
  Job upsert(const Job& job, bool& created);
  std::optional<Job> find(const std::string& id);
  std::vector<Job> list();
  /// Deletes the job and cancels its queued run, if any (which then owes its
  /// end notifications, like any cancelled run); throws Conflict when a run
  /// of it is running, NotFound when it does not exist.
  void remove(const std::string& id);

 private:
  Pool& pool_;
  RunEndNotices notices_;
};

}  // namespace catalog::db
