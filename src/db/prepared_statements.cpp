#include "catalog/db/prepared_statements.hpp"

#include <pqxx/pqxx>

namespace catalog::db {

const std::string* PreparedStatements::name_of(const std::string& sql) {
  std::lock_guard lock(mutex_);
  if (const auto it = names_.find(sql); it != names_.end()) return &it->second;
  if (names_.size() >= capacity_) return nullptr;
  // Sequential names: no two texts can ever share one.
  auto name = prefix_ + std::to_string(names_.size());
  return &names_.emplace(sql, std::move(name)).first->second;
}

std::size_t PreparedStatements::size() const {
  std::lock_guard lock(mutex_);
  return names_.size();
}

pqxx::result PreparedStatements::exec(pqxx::connection& c, pqxx::transaction_base& tx, const std::string& sql,
                                      const std::vector<std::string>& params) {
  const std::string* name = name_of(sql);
  if (name == nullptr) return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  // Registers the text with this connection's libpqxx, which prepares it on
  // the server before its first execution; a repeated prepare of the same
  // text under the same name is a map lookup.
  c.prepare(*name, sql);
  return tx.exec_prepared(*name, pqxx::prepare::make_dynamic_params(params));
}

}  // namespace catalog::db
