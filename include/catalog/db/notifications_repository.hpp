#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "catalog/db/pool.hpp"

namespace catalog::db {

/// A notification claimed for one delivery attempt.
struct ClaimedNotification {
  std::string id;  ///< also the delivery id receivers see (X-Catalog-Delivery)
  std::string run_id;
  std::string url;
  int attempts = 0;                   ///< including this one
  std::chrono::seconds age{0};        ///< since it was queued
};

/// The webhook queue (run_notifications): rows are queued by
/// RunsRepository::finish; any task's delivery worker claims them.
class NotificationsRepository {
 public:
  explicit NotificationsRepository(Pool& pool) : pool_(pool) {}

  /// Takes the oldest due notification (SKIP LOCKED, so each is attempted by
  /// one task at a time) and leases it for `lease`: a worker that dies
  /// mid-attempt leaves it claimable again after that.
  std::optional<ClaimedNotification> claim_due(std::chrono::seconds lease);

  void mark_delivered(const std::string& id, long http_status);
  /// Final failure: not retried.
  void mark_failed(const std::string& id, long http_status, const std::string& error);
  /// Due again after `delay`.
  void retry_later(const std::string& id, long http_status, const std::string& error, std::chrono::milliseconds delay);

 private:
  Pool& pool_;
};

}  // namespace catalog::db
