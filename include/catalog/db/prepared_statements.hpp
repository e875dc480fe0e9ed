#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <pqxx/connection>
#include <pqxx/result>
#include <pqxx/transaction_base>

namespace catalog::db {

/// The statements one repository prepares, by SQL text. A prepared statement
/// is parsed once per connection, and PostgreSQL plans it once (a generic
/// plan) when that plan is no costlier than planning for the values, which
/// on the partitioned products table costs about as much as running a page
/// (docs/performance.md). Each distinct text costs every pooled connection
/// its plan (about 100 KB with four partitions, growing with them), so at
/// most `capacity` texts are admitted, first come first served, for the
/// process's lifetime; the rest run as one-off statements, planned for their
/// values each time, as unprepared statements always are.
class PreparedStatements {
 public:
  /// Statement names are `prefix`, a number of this registry and a number
  /// of the text: two registries never name two texts alike, even on a
  /// shared connection (libpqxx refuses a name redefined with another text).
  PreparedStatements(const std::string& prefix, std::size_t capacity)
      : prefix_(prefix + std::to_string(next_registry()) + "_"), capacity_(capacity) {}

  /// Runs `sql` with `params` in `tx` on `c`, prepared when admitted.
  pqxx::result exec(pqxx::connection& c, pqxx::transaction_base& tx, const std::string& sql,
                    const std::vector<std::string>& params);

  /// Texts admitted so far.
  std::size_t size() const;

 private:
  static unsigned next_registry() {
    static std::atomic<unsigned> registries{0};
    return registries.fetch_add(1, std::memory_order_relaxed);
  }

  /// The statement's name, admitting its text when there is room; nullptr
  /// when it is not admitted. Names stay valid: entries are never removed.
  const std::string* name_of(const std::string& sql);

  const std::string prefix_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> names_;  // SQL text → statement name
};

}  // namespace catalog::db
