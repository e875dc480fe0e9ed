#pragma once
// Raw COPY streams for the ETL hot path, on the libpq connection underneath a
// libpqxx transaction.
//
// Why not pqxx::stream_to: in libpqxx 6.4 it builds a std::string per row and
// escapes every non-ASCII byte as octal, which made it the bottleneck of the
// whole pipeline (see docs/etl.md). Here rows are written in COPY text format
// (https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.2) into a
// buffer that goes out in large PQputCopyData calls.

#include <cstdint>
#include <string>
#include <string_view>

#include <pqxx/dbtransaction>

#include "catalog/core/errors.hpp"

namespace catalog::db {

/// A COPY statement failed on the server or the connection broke mid-COPY.
class CopyError : public catalog::Error {
  using Error::Error;
};

/// `COPY ... FROM STDIN` in text format. Append complete lines (use
/// append_copy_text / append_copy_null / '\t' / '\n') to buffer(), then call
/// maybe_flush(). finish() ends the COPY and returns the server's row count.
/// Destroying an unfinished CopyIn aborts the COPY (the statement fails, the
/// transaction must then be rolled back) so the connection stays usable.
class CopyIn {
 public:
  /// `copy_sql` is a constant `COPY <table> (<columns>) FROM STDIN`.
  CopyIn(pqxx::dbtransaction& tx, const std::string& copy_sql);
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;

  std::string& buffer() noexcept { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) flush();
  }
  /// Sends whole-line data that is already in COPY text format.
  void write_raw(std::string_view data);
  std::uint64_t finish();

 private:
  static constexpr std::size_t kFlushBytes = 256 * 1024;
  void flush();
  void* conn_;
  std::string buffer_;
  bool open_ = true;
};

/// `COPY (...) TO STDOUT` in text format, one line at a time (without the
/// trailing newline). Destroying it early drains the rest of the data.
class CopyOut {
 public:
  CopyOut(pqxx::dbtransaction& tx, const std::string& copy_sql);
  ~CopyOut();
  CopyOut(const CopyOut&) = delete;
  CopyOut& operator=(const CopyOut&) = delete;

  /// Next line, valid until the next call; false at the end.
  bool next(std::string_view& line);

 private:
  void release();
  void* conn_;
  char* current_ = nullptr;
  bool open_ = true;
};

/// Appends `value` escaped for COPY text format (\\, \t, \n, \r).
void append_copy_text(std::string& out, std::string_view value);
inline void append_copy_null(std::string& out) { out.append("\\N", 2); }
/// Reverses COPY text escaping of one field.
std::string unescape_copy_text(std::string_view field);

}  // namespace catalog::db
