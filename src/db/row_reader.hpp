#pragma once

#include <optional>
#include <string_view>

#include <pqxx/field>
#include <pqxx/result>
#include <pqxx/row>

namespace catalog::db {

/// Reads the fields of one result row in place, as views into the result.
/// libpqxx 6.4 copies the result's shared pointer into every pqxx::field it
/// hands out (`row[i]`): one atomic increment and decrement per access, three
/// per nullable column. One field iterator moved along the row costs one.
class RowReader {
 public:
  explicit RowReader(const pqxx::row& row) : field_(row.begin()) {}

  std::string_view text(pqxx::row::size_type column) {
    seek(column);
    return {field_.c_str(), field_.size()};
  }
  std::optional<std::string_view> nullable(pqxx::row::size_type column) {
    seek(column);
    if (field_.is_null()) return std::nullopt;
    return std::string_view(field_.c_str(), field_.size());
  }

 private:
  void seek(pqxx::row::size_type column) {
    field_ += static_cast<pqxx::row::difference_type>(column) - static_cast<pqxx::row::difference_type>(field_.num());
  }

  pqxx::row::const_iterator field_;
};

/// A nullable column as std::nullopt or its value.
template <typename T>
std::optional<T> optional_field(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

}  // namespace catalog::db
