#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/db/pool.hpp"

namespace catalog::db {

/// One uploaded partner feed (a row of `feeds`), with the status of the run
/// queued for it.
struct Feed {
  std::string id;
  std::string job_id;
  std::string uri;
  std::string file_name;
  std::int64_t bytes = 0;
  std::string sha256;
  std::string uploaded_at;                ///< RFC 3339, set by the database
  std::optional<std::string> run_id;      ///< null when no run could be queued (409)
  std::optional<std::string> run_status;  ///< the run's current status, when there is one
  std::optional<std::string> uploaded_by;  ///< the key that uploaded it; null with auth disabled
};

class FeedsRepository {
 public:
  explicit FeedsRepository(Pool& pool) : pool_(pool) {}

  /// Records an uploaded feed (`id` chosen by the caller: it is part of the
  /// S3 key); returns it as stored.
  Feed insert(const Feed& feed);
  /// Links the feed to the run queued for it.
  void set_run(const std::string& feed_id, const std::string& run_id);
  std::optional<Feed> find(const std::string& feed_id);
  /// Newest first; only `job_id`'s feeds when given.
  std::vector<Feed> list(const std::optional<std::string>& job_id, std::size_t limit);
  /// Newest first, only these jobs' feeds.
  std::vector<Feed> list_for_jobs(const std::vector<std::string>& job_ids, std::size_t limit);

 private:
  Pool& pool_;
};

}  // namespace catalog::db
