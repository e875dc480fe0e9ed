#include "etl/reject_log.hpp"

#include <algorithm>
#include <vector>

#include "catalog/core/utf8.hpp"

namespace catalog::etl {
namespace {

void keep_first_by_line(std::vector<Reject>& rejects) {
  std::stable_sort(rejects.begin(), rejects.end(), [](const Reject& a, const Reject& b) { return a.line < b.line; });
  if (rejects.size() > kMaxStoredRejects) rejects.resize(kMaxStoredRejects);
}

}  // namespace

std::string sanitize_utf8(std::string_view s, std::size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max) + 4);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c >= 0x80 ? utf8_sequence_length(s, i) : c != 0 ? 1 : 0;
    const std::string_view piece = len != 0 ? s.substr(i, len) : std::string_view("\xEF\xBF\xBD", 3);
    if (out.size() + piece.size() > max) {
      out.append("...");
      break;
    }
    out.append(piece);
    i += len != 0 ? len : 1;
  }
  return out;
}

bool RejectLog::stores_next() const noexcept {
  return result_.first_rejects.size() < kMaxStoredRejects || out_of_order_;
}

void RejectLog::add(std::uint64_t line, std::string_view reason, std::string_view raw) {
  ++result_.rejected;
  if (stores_next()) {
    result_.first_rejects.push_back(Reject{line, sanitize_utf8(reason, 1000), sanitize_utf8(raw, kRawMax)});
    // Out of order, the list is cut back now and then instead of growing with every reject.
    if (result_.first_rejects.size() >= 2 * kMaxStoredRejects) keep_first_by_line(result_.first_rejects);
  }
  if (limit_.exceeded_early(result_.rejected)) throw_too_many();
}

void RejectLog::sort_by_line() { keep_first_by_line(result_.first_rejects); }

void RejectLog::check_limit() const {
  if (limit_.exceeded(result_.rejected, result_.read)) throw_too_many();
}

void RejectLog::throw_too_many() const {
  RunResult partial;
  partial.bytes = result_.bytes;
  partial.read = result_.read;
  partial.rejected = result_.rejected;
  partial.first_rejects = result_.first_rejects;
  keep_first_by_line(partial.first_rejects);
  throw TooManyRejects("too many rejected rows: " + std::to_string(result_.rejected) + " rejected of " +
                           std::to_string(result_.read) + " read so far (max_rejects " + limit_.describe() +
                           "); nothing was written",
                       std::move(partial));
}

}  // namespace catalog::etl
