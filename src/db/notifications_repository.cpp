#include "catalog/db/notifications_repository.hpp"

#include <pqxx/pqxx>

namespace catalog::db {
namespace {

constexpr const char* kClaim =
    "UPDATE run_notifications SET status = 'sending', attempts = attempts + 1, "
    "next_attempt_at = now() + make_interval(secs => $1) "
    "WHERE id = (SELECT id FROM run_notifications WHERE status IN ('pending', 'sending') AND next_attempt_at <= now() "
    "ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT 1) "
    "RETURNING id::text, run_id::text, url, attempts, extract(epoch FROM now() - created_at)::bigint";
constexpr const char* kDelivered =
    "UPDATE run_notifications SET status = 'delivered', last_http_status = $2, last_error = NULL, "
    "delivered_at = now() WHERE id = $1";
constexpr const char* kFailed =
    "UPDATE run_notifications SET status = 'failed', last_http_status = $2, last_error = $3 WHERE id = $1";
constexpr const char* kRetry =
    "UPDATE run_notifications SET status = 'pending', last_http_status = $2, last_error = $3, "
    "next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1";

std::optional<long> status_or_null(long http_status) {
  if (http_status == 0) return std::nullopt;
  return http_status;
}

}  // namespace

std::optional<ClaimedNotification> NotificationsRepository::claim_due(std::chrono::seconds lease) {
  return pool_.with_connection([&](pqxx::connection& c) -> std::optional<ClaimedNotification> {
    pqxx::work tx(c);
    const auto r = tx.exec_params(kClaim, static_cast<double>(lease.count()));
    tx.commit();
    if (r.empty()) return std::nullopt;
    return ClaimedNotification{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                               r[0][3].as<int>(), std::chrono::seconds(r[0][4].as<long long>())};
  });
}

void NotificationsRepository::mark_delivered(const std::string& id, long http_status) {
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kDelivered, id, status_or_null(http_status));
    tx.commit();
  });
}

void NotificationsRepository::mark_failed(const std::string& id, long http_status, const std::string& error) {
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kFailed, id, status_or_null(http_status), error);
    tx.commit();
  });
}

void NotificationsRepository::retry_later(const std::string& id, long http_status, const std::string& error,
                                          std::chrono::milliseconds delay) {
  pool_.with_connection([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(kRetry, id, status_or_null(http_status), error, static_cast<double>(delay.count()) / 1000.0);
    tx.commit();
  });
}

}  // namespace catalog::db
