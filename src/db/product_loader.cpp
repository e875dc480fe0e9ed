#include "catalog/db/product_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <libpq-fe.h>
#include <pqxx/largeobject>

namespace catalog::db {
namespace {

// libpqxx 6.4 exposes the libpq handle only through a protected static of
// largeobject; deriving from it is the one supported route that needs no
// private headers. The connection stays owned and managed by libpqxx.
struct RawConnection : pqxx::largeobject {
  static PGconn* of(const pqxx::dbtransaction& tx) { return pqxx::largeobject::raw_connection(tx); }
};

std::string conn_error(PGconn* conn) {
  std::string msg = PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// Collects the final result(s) of a COPY; throws on failure. Returns the
// row count reported by the server.
std::uint64_t collect_result(PGconn* conn, const char* what) {
  std::uint64_t rows = 0;
  std::string error;
  while (PGresult* res = PQgetResult(conn)) {
    const auto status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK) {
      const char* n = PQcmdTuples(res);
      if (n != nullptr && *n != '\0') rows = std::strtoull(n, nullptr, 10);
    } else if (error.empty()) {
      error = PQresultErrorMessage(res);
      while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    }
    PQclear(res);
  }
  if (!error.empty()) throw CopyError(std::string(what) + " failed: " + error);
  return rows;
}

}  // namespace

CopyIn::CopyIn(pqxx::dbtransaction& tx, const std::string& copy_sql) : conn_(RawConnection::of(tx)) {
  tx.exec(copy_sql);  // PGRES_COPY_IN; libpqxx accepts it as a successful result
  buffer_.reserve(kFlushBytes + 64 * 1024);
}

CopyIn::~CopyIn() {
  if (!open_) return;
  auto* conn = static_cast<PGconn*>(conn_);
  // Abort: the server fails the COPY and the caller rolls back.
  PQputCopyEnd(conn, "aborted by client");
  while (PGresult* res = PQgetResult(conn)) PQclear(res);
}

void CopyIn::flush() {
  if (buffer_.empty()) return;
  auto* conn = static_cast<PGconn*>(conn_);
  if (PQputCopyData(conn, buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
    throw CopyError("COPY: sending data failed: " + conn_error(conn));
  }
  buffer_.clear();
}

void CopyIn::write_raw(std::string_view data) {
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), kFlushBytes);
    buffer_.append(data.data(), n);
    data.remove_prefix(n);
    maybe_flush();
  }
}

std::uint64_t CopyIn::finish() {
  flush();
  auto* conn = static_cast<PGconn*>(conn_);
  open_ = false;
  if (PQputCopyEnd(conn, nullptr) != 1) {
    const std::string msg = conn_error(conn);
    while (PGresult* res = PQgetResult(conn)) PQclear(res);
    throw CopyError("COPY: ending failed: " + msg);
  }
  return collect_result(conn, "COPY");
}

CopyOut::CopyOut(pqxx::dbtransaction& tx, const std::string& copy_sql) : conn_(RawConnection::of(tx)) {
  tx.exec(copy_sql);  // PGRES_COPY_OUT
}

CopyOut::~CopyOut() {
  release();
  if (!open_) return;
  auto* conn = static_cast<PGconn*>(conn_);
  char* buf = nullptr;
  while (PQgetCopyData(conn, &buf, 0) > 0) PQfreemem(buf);
  while (PGresult* res = PQgetResult(conn)) PQclear(res);
}

void CopyOut::release() {
  if (current_ != nullptr) {
    PQfreemem(current_);
    current_ = nullptr;
  }
}

bool CopyOut::next(std::string_view& line) {
  release();
  if (!open_) return false;
  auto* conn = static_cast<PGconn*>(conn_);
  const int n = PQgetCopyData(conn, &current_, 0);
  if (n > 0) {
    std::size_t len = static_cast<std::size_t>(n);
    if (len > 0 && current_[len - 1] == '\n') --len;
    line = std::string_view(current_, len);
    return true;
  }
  open_ = false;
  if (n == -2) {
    const std::string msg = conn_error(conn);
    while (PGresult* res = PQgetResult(conn)) PQclear(res);
    throw CopyError("COPY TO STDOUT failed: " + msg);
  }
  collect_result(conn, "COPY TO STDOUT");
  return false;
}

void append_copy_text(std::string& out, std::string_view value) {
  const char* p = value.data();
  const char* const end = p + value.size();
  while (p < end) {
    const char* run = p;
    while (p < end && *p != '\\' && *p != '\t' && *p != '\n' && *p != '\r') ++p;
    out.append(run, static_cast<std::size_t>(p - run));
    if (p == end) break;
    out.push_back('\\');
    switch (*p) {
      case '\\': out.push_back('\\'); break;
      case '\t': out.push_back('t'); break;
      case '\n': out.push_back('n'); break;
      default: out.push_back('r'); break;
    }
    ++p;
  }
}

std::string unescape_copy_text(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out.push_back(c);
      continue;
    }
    const char e = field[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      default:
        if (e >= '0' && e <= '7') {  // \NNN octal
          int v = 0;
          int k = 0;
          while (k < 3 && i < field.size() && field[i] >= '0' && field[i] <= '7') {
            v = v * 8 + (field[i] - '0');
            ++i;
            ++k;
          }
          --i;
          out.push_back(static_cast<char>(v));
        } else {
          out.push_back(e);
        }
    }
  }
  return out;
}

}  // namespace catalog::db
