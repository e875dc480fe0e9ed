#include "catalog/etl/normalizer.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "catalog/etl/hash.hpp"
#include "etl/text.hpp"

namespace catalog::etl {
namespace {

constexpr std::int64_t kMaxCents = 999'999'999'999;  // numeric(12,2): |x| < 10^10

// Seed of the content hash: bump the version byte below (not this seed) when
// the canonical serialisation changes; every row then updates once.
constexpr std::uint64_t kContentSeed = 0x63617461'6c6f6731ULL;  // "catalog1"
constexpr std::uint64_t kKeyCheckSeed = 0x9E3779B97F4A7C15ULL;
constexpr char kCanonicalVersion = 1;

void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}

void put_text(std::string& out, const std::string& s) {
  if (s.empty()) {
    out.push_back('\0');  // NULL
    return;
  }
  out.push_back('\1');
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void assign_trimmed(std::string& dst, std::string_view src) {
  const std::string_view t = text::trim(src);
  dst.assign(t.data(), t.size());
}

/// False (and the reason) when `value` is longer than `limit` bytes.
bool within_limit(const std::string& value, std::size_t limit, const char* field, const std::string& column,
                  std::string& reason) {
  if (value.size() <= limit) return true;
  reason = std::string(field) + " longer than " + std::to_string(limit) + " bytes (" + std::to_string(value.size()) +
           " bytes, column '" + column + "')";
  return false;
}

std::string quoted_for_reason(std::string_view s) {
  constexpr std::size_t kMax = 40;
  if (s.size() <= kMax) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kMax)) + "...'";
}

}  // namespace

std::string ProductRow::price_text() const {
  std::uint64_t magnitude = price_cents < 0 ? static_cast<std::uint64_t>(-price_cents)
                                            : static_cast<std::uint64_t>(price_cents);
  std::string out = price_cents < 0 ? "-" : "";
  out += std::to_string(magnitude / 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (magnitude % 100) / 10));
  out.push_back(static_cast<char>('0' + magnitude % 10));
  return out;
}

bool parse_price(std::string_view s, std::int64_t& cents) {
  s = text::trim(s);
  bool negative = false;
  bool dollar = false;
  // Accept "-$1.00", "$-1.00", "+1", "$ 1.00".
  for (int i = 0; i < 2 && !s.empty(); ++i) {
    if (!dollar && s.front() == '$') {
      dollar = true;
      s.remove_prefix(1);
      s = text::trim(s);
    } else if (i == 0 && (s.front() == '-' || s.front() == '+')) {
      negative = s.front() == '-';
      s.remove_prefix(1);
    } else if (i == 1 && dollar && (s.front() == '-' || s.front() == '+')) {
      negative = s.front() == '-';
      s.remove_prefix(1);
    }
  }
  std::uint64_t integer = 0;
  int significant = 0;
  int digits = 0;
  std::size_t i = 0;
  int group_len = 0;
  bool grouped = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      ++digits;
      ++group_len;
      if (integer != 0 || c != '0') {
        if (++significant > 10) return false;  // out of range (or absurd)
        integer = integer * 10 + static_cast<unsigned>(c - '0');
      }
    } else if (c == ',') {
      // Thousands separators: first group 1-3 digits, every later one 3.
      if (group_len == 0 || (grouped ? group_len != 3 : group_len > 3)) return false;
      grouped = true;
      group_len = 0;
    } else {
      break;
    }
  }
  if (grouped && group_len != 3) return false;
  std::uint64_t fraction = 0;  // in cents
  if (i < s.size() && s[i] == '.') {
    ++i;
    int fdigits = 0;
    bool round_up = false;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c < '0' || c > '9') break;
      if (fdigits < 2) {
        fraction = fraction * 10 + static_cast<unsigned>(c - '0');
      } else if (fdigits == 2) {
        round_up = c >= '5';
      }
      ++fdigits;
      ++digits;
    }
    if (fdigits == 1) fraction *= 10;
    if (round_up) ++fraction;
  }
  if (i != s.size() || digits == 0) return false;
  const std::uint64_t magnitude = integer * 100 + fraction;
  if (magnitude > static_cast<std::uint64_t>(kMaxCents)) return false;
  cents = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  return true;
}

std::string normalize_availability(std::string_view s) {
  s = text::trim(s);
  std::string out;
  out.reserve(s.size());
  bool pending_sep = false;
  for (char c : s) {
    if (c == ' ' || c == '-' || c == '_' || c == '\t') {
      pending_sep = true;
      continue;
    }
    if (pending_sep && !out.empty()) out.push_back('_');
    pending_sep = false;
    out.push_back(text::ascii_lower(c));
  }
  return out;
}

RowNormalizer::RowNormalizer(const std::vector<std::string_view>& header, const JobOptions& options) {
  static const std::map<std::string, Target> kFields = {
      {"sku", Target::sku},           {"product_name", Target::name}, {"description", Target::description},
      {"brand", Target::brand},       {"category", Target::category}, {"price", Target::price},
      {"currency", Target::currency}, {"availability", Target::availability}};

  // Fields claimed explicitly (mapping or key option): a column that merely
  // happens to carry that field's name then becomes an attribute.
  std::set<std::string> claimed;
  for (const auto& [column, field] : options.header) claimed.insert(field);
  if (options.key != "sku") claimed.insert("sku");

  std::set<std::string> seen;
  std::map<Target, std::string> filled;  // field → column that fills it
  columns_.reserve(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    Column col;
    col.name = text::normalize_header(header[i]);
    if (col.name.empty()) {
      col.target = Target::ignore;  // unnamed column (e.g. a trailing delimiter): nothing to call it
      columns_.push_back(std::move(col));
      continue;
    }
    if (!seen.insert(col.name).second) {
      throw FeedError("duplicated header column '" + col.name + "'");
    }
    std::string field;
    if (const auto m = options.header.find(col.name); m != options.header.end()) {
      field = m->second;
    } else if (col.name == options.key) {
      field = "sku";
    } else if (kFields.count(col.name) != 0 && claimed.count(col.name) == 0) {
      field = col.name;
    }
    if (field.empty()) {
      col.target = Target::attribute;
    } else {
      col.target = kFields.at(field);
      const auto [it, inserted] = filled.emplace(col.target, col.name);
      if (!inserted) {
        throw FeedError("header columns '" + it->second + "' and '" + col.name + "' both map to field " + field);
      }
    }
    columns_.push_back(std::move(col));
  }
  if (filled.count(Target::sku) == 0) {
    throw FeedError("feed header has no key column '" + options.key + "' (the sku); columns are: " +
                    [&] {
                      std::string names;
                      for (const auto& c : columns_) names += (names.empty() ? "" : ", ") + c.name;
                      return names;
                    }());
  }
  if (filled.count(Target::name) == 0) {
    throw FeedError("feed header has no 'product_name' column");
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].target != Target::attribute) continue;
    if (columns_[i].name.size() > kMaxAttributeKeyBytes) {
      throw FeedError("header column '" + columns_[i].name.substr(0, 40) + "...' is longer than " +
                      std::to_string(kMaxAttributeKeyBytes) + " bytes (its values would be attributes under that name)");
    }
    attribute_order_.push_back(i);
  }
  std::sort(attribute_order_.begin(), attribute_order_.end(),
            [&](std::size_t a, std::size_t b) { return columns_[a].name < columns_[b].name; });
}

std::vector<std::string> RowNormalizer::attribute_columns() const {
  std::vector<std::string> out;
  for (std::size_t i : attribute_order_) out.push_back(columns_[i].name);
  return out;
}

bool RowNormalizer::normalize(const std::vector<std::string_view>& fields, ProductRow& out,
                              std::string& reason) const {
  if (fields.size() != columns_.size()) {
    reason = "expected " + std::to_string(columns_.size()) + " fields, got " + std::to_string(fields.size());
    return false;
  }
  out.description.clear();
  out.brand.clear();
  out.category.clear();
  out.currency.clear();
  out.availability.clear();
  out.has_price = false;
  out.price_cents = 0;
  out.attributes.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string_view value = fields[i];
    const Column& col = columns_[i];
    if (col.target != Target::ignore && std::memchr(value.data(), '\0', value.size()) != nullptr) {
      reason = "column '" + col.name + "' contains a NUL byte";
      return false;
    }
    switch (col.target) {
      case Target::ignore:
      case Target::attribute:
        break;
      case Target::sku:
        assign_trimmed(out.sku, value);
        if (out.sku.empty()) {
          reason = "empty key (column '" + col.name + "')";
          return false;
        }
        if (!within_limit(out.sku, kMaxSkuBytes, "sku", col.name, reason)) return false;
        break;
      case Target::name:
        assign_trimmed(out.name, value);
        if (out.name.empty()) {
          reason = "empty product_name (column '" + col.name + "')";
          return false;
        }
        if (!within_limit(out.name, kMaxNameBytes, "product_name", col.name, reason)) return false;
        break;
      case Target::description:
        assign_trimmed(out.description, value);
        if (!within_limit(out.description, kMaxDescriptionBytes, "description", col.name, reason)) return false;
        break;
      case Target::brand:
        assign_trimmed(out.brand, value);
        if (!within_limit(out.brand, kMaxBrandBytes, "brand", col.name, reason)) return false;
        break;
      case Target::category:
        assign_trimmed(out.category, value);
        if (!within_limit(out.category, kMaxCategoryBytes, "category", col.name, reason)) return false;
        break;
      case Target::price: {
        const std::string_view t = text::trim(value);
        if (t.empty()) break;
        if (!parse_price(t, out.price_cents)) {
          reason = "unparsable or out-of-range price " + quoted_for_reason(t) + " (column '" + col.name + "')";
          return false;
        }
        out.has_price = true;
        break;
      }
      case Target::currency: {
        const std::string_view t = text::trim(value);
        if (t.empty()) break;
        bool ok = t.size() == 3;
        for (char c : t) ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
        if (!ok) {
          reason = "invalid currency " + quoted_for_reason(t) + " (expected 3 letters, column '" + col.name + "')";
          return false;
        }
        out.currency.assign(t.data(), t.size());
        for (char& c : out.currency) c = static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c);
        break;
      }
      case Target::availability:
        out.availability = normalize_availability(value);
        if (!within_limit(out.availability, kMaxAvailabilityBytes, "availability", col.name, reason)) return false;
        break;
    }
  }
  for (std::size_t i : attribute_order_) {
    if (fields[i].size() > kMaxAttributeValueBytes) {
      reason = "attribute '" + columns_[i].name + "' longer than " + std::to_string(kMaxAttributeValueBytes) +
               " bytes (" + std::to_string(fields[i].size()) + " bytes)";
      return false;
    }
    if (!fields[i].empty()) out.attributes.emplace_back(columns_[i].name, std::string(fields[i]));
  }
  return true;
}

std::uint64_t content_hash(const ProductRow& row, std::string& scratch) {
  scratch.clear();
  scratch.push_back(kCanonicalVersion);
  put_text(scratch, row.name);
  put_text(scratch, row.description);
  put_text(scratch, row.brand);
  put_text(scratch, row.category);
  if (row.has_price) {
    scratch.push_back('\1');
    const auto v = static_cast<std::uint64_t>(row.price_cents);
    for (int i = 0; i < 8; ++i) scratch.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  } else {
    scratch.push_back('\0');
  }
  put_text(scratch, row.currency);
  put_text(scratch, row.availability);
  put_u32(scratch, static_cast<std::uint32_t>(row.attributes.size()));
  for (const auto& [k, v] : row.attributes) {
    put_u32(scratch, static_cast<std::uint32_t>(k.size()));
    scratch.append(k);
    put_u32(scratch, static_cast<std::uint32_t>(v.size()));
    scratch.append(v);
  }
  return xxh64(scratch, kContentSeed);
}

std::uint64_t key_hash(std::string_view sku) noexcept { return xxh64(sku, 0); }

std::uint32_t key_check(std::string_view sku) noexcept {
  return static_cast<std::uint32_t>(xxh64(sku, kKeyCheckSeed) >> 32);
}

}  // namespace catalog::etl
