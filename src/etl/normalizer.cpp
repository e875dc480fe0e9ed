#include "catalog/etl/normalizer.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
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

bool parse_price_with_currency(std::string_view s, std::int64_t& cents, std::string& currency) {
  currency.clear();
  s = text::trim(s);
  const auto is_code = [](std::string_view t) {
    if (t.size() != 3) return false;
    for (char c : t) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
    }
    return true;
  };
  std::string_view code;
  if (const auto sp = s.find_last_of(" \t"); sp != std::string_view::npos && is_code(s.substr(sp + 1))) {
    code = s.substr(sp + 1);  // "15.00 USD"
    s = text::trim(s.substr(0, sp));
  } else if (const auto first = s.find_first_of(" \t"); first != std::string_view::npos && is_code(s.substr(0, first))) {
    code = s.substr(0, first);  // "USD 15.00"
    s = text::trim(s.substr(first));
  }
  if (!parse_price(s, cents)) return false;
  for (char c : code) currency.push_back(static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c));
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

namespace {

const std::map<std::string, FieldTarget>& own_fields() {
  static const std::map<std::string, FieldTarget> kFields = {
      {"sku", FieldTarget::sku},           {"product_name", FieldTarget::name},
      {"description", FieldTarget::description}, {"brand", FieldTarget::brand},
      {"category", FieldTarget::category}, {"price", FieldTarget::price},
      {"currency", FieldTarget::currency}, {"availability", FieldTarget::availability}};
  return kFields;
}

/// Google Merchant Center attribute → field (the key, `id`, is the job's
/// `key` option: JobOptions defaults it). Atom's <summary> is a description.
/// https://support.google.com/merchants/answer/7052112
const std::map<std::string, std::pair<FieldTarget, const char*>>& google_fields() {
  static const std::map<std::string, std::pair<FieldTarget, const char*>> kFields = {
      {"title", {FieldTarget::name, "product_name"}},
      {"description", {FieldTarget::description, "description"}},
      {"summary", {FieldTarget::description, "description"}},
      {"brand", {FieldTarget::brand, "brand"}},
      {"product_type", {FieldTarget::category, "category"}},
      {"google_product_category", {FieldTarget::category_fallback, "category"}},
      {"price", {FieldTarget::price, "price"}},
      {"availability", {FieldTarget::availability, "availability"}}};
  return kFields;
}

/// What one row gathered besides its fields, settled once every field is seen.
struct RowExtras {
  std::string price_currency;    ///< the code written with the price
  std::string_view price_column;
  std::string_view currency_column;
  std::string_view fallback;     ///< google_product_category's value
  std::string_view fallback_column;
};

/// Applies one value to its field. False (and the reason) rejects the row.
bool apply_field(FieldTarget target, const std::string& column, std::string_view value, ProductRow& out,
                 RowExtras& extras, std::string& reason) {
  switch (target) {
    case FieldTarget::ignore:
    case FieldTarget::attribute:
      break;
    case FieldTarget::sku:
      assign_trimmed(out.sku, value);
      if (out.sku.empty()) {
        reason = "empty key (column '" + column + "')";
        return false;
      }
      return within_limit(out.sku, kMaxSkuBytes, "sku", column, reason);
    case FieldTarget::name:
      assign_trimmed(out.name, value);
      if (out.name.empty()) {
        reason = "empty product_name (column '" + column + "')";
        return false;
      }
      return within_limit(out.name, kMaxNameBytes, "product_name", column, reason);
    case FieldTarget::description:
      assign_trimmed(out.description, value);
      return within_limit(out.description, kMaxDescriptionBytes, "description", column, reason);
    case FieldTarget::brand:
      assign_trimmed(out.brand, value);
      return within_limit(out.brand, kMaxBrandBytes, "brand", column, reason);
    case FieldTarget::category:
      assign_trimmed(out.category, value);
      return within_limit(out.category, kMaxCategoryBytes, "category", column, reason);
    case FieldTarget::category_fallback:
      extras.fallback = text::trim(value);
      extras.fallback_column = column;
      break;
    case FieldTarget::price: {
      const std::string_view t = text::trim(value);
      if (t.empty()) break;
      if (!parse_price_with_currency(t, out.price_cents, extras.price_currency)) {
        reason = "unparsable or out-of-range price " + quoted_for_reason(t) + " (column '" + column + "')";
        return false;
      }
      extras.price_column = column;
      out.has_price = true;
      break;
    }
    case FieldTarget::currency: {
      const std::string_view t = text::trim(value);
      if (t.empty()) break;
      bool ok = t.size() == 3;
      for (char c : t) ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
      if (!ok) {
        reason = "invalid currency " + quoted_for_reason(t) + " (expected 3 letters, column '" + column + "')";
        return false;
      }
      out.currency.assign(t.data(), t.size());
      for (char& c : out.currency) c = static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c);
      extras.currency_column = column;
      break;
    }
    case FieldTarget::availability:
      out.availability = normalize_availability(value);
      return within_limit(out.availability, kMaxAvailabilityBytes, "availability", column, reason);
  }
  return true;
}

/// After every field: the price's currency code against the currency column,
/// and the category fallback. Returns false (and the reason) to reject.
/// `fallback_used` tells whether the fallback became the category (else it is an attribute).
bool settle_row(ProductRow& out, const RowExtras& extras, bool& fallback_used, std::string& reason) {
  if (!extras.price_currency.empty()) {
    if (out.currency.empty()) {
      out.currency = extras.price_currency;
    } else if (out.currency != extras.price_currency) {
      reason = "price currency '" + extras.price_currency + "' (column '" + std::string(extras.price_column) +
               "') contradicts currency '" + out.currency + "' (column '" + std::string(extras.currency_column) + "')";
      return false;
    }
  }
  fallback_used = false;
  if (out.category.empty() && !extras.fallback.empty()) {
    out.category.assign(extras.fallback.data(), extras.fallback.size());
    fallback_used = true;
    return within_limit(out.category, kMaxCategoryBytes, "category", std::string(extras.fallback_column), reason);
  }
  return true;
}

void clear_row(ProductRow& out) {
  out.description.clear();
  out.brand.clear();
  out.category.clear();
  out.currency.clear();
  out.availability.clear();
  out.has_price = false;
  out.price_cents = 0;
  out.attributes.clear();
}

bool check_attribute(std::string_view name, std::string_view value, std::string& reason) {
  if (value.size() > kMaxAttributeValueBytes) {
    reason = "attribute '" + std::string(name) + "' longer than " + std::to_string(kMaxAttributeValueBytes) +
             " bytes (" + std::to_string(value.size()) + " bytes)";
    return false;
  }
  return true;
}

std::string field_name(FieldTarget t) {
  switch (t) {
    case FieldTarget::sku: return "sku";
    case FieldTarget::name: return "product_name";
    case FieldTarget::description: return "description";
    case FieldTarget::brand: return "brand";
    case FieldTarget::category:
    case FieldTarget::category_fallback: return "category";
    case FieldTarget::price: return "price";
    case FieldTarget::currency: return "currency";
    case FieldTarget::availability: return "availability";
    default: return "attributes";
  }
}

}  // namespace

FieldRules::FieldRules(const JobOptions& options) : options_(options) {
  for (const auto& [column, field] : options.header) claimed_.push_back(field);
  if (options.key != "sku") claimed_.push_back("sku");
}

FieldTarget FieldRules::target_of(const std::string& name) const {
  const auto is_claimed = [&](const std::string& field) {
    return std::find(claimed_.begin(), claimed_.end(), field) != claimed_.end();
  };
  if (const auto m = options_.header.find(name); m != options_.header.end()) return own_fields().at(m->second);
  if (name == options_.key) return FieldTarget::sku;
  const bool google = options_.profile == Profile::google_merchant;
  if (google) {
    if (const auto g = google_fields().find(name); g != google_fields().end()) {
      return is_claimed(g->second.second) ? FieldTarget::attribute : g->second.first;
    }
  }
  if (const auto f = own_fields().find(name); f != own_fields().end() && !is_claimed(name)) {
    // Under a profile, our own names count only for the fields it does not name (currency).
    if (!google || f->second == FieldTarget::currency) return f->second;
  }
  return FieldTarget::attribute;
}

std::string FieldRules::name_of(FieldTarget target) const {
  const std::string field = field_name(target);
  for (const auto& [column, mapped] : options_.header) {
    if (mapped == field) return column;
  }
  if (target == FieldTarget::sku) return options_.key;
  if (options_.profile == Profile::google_merchant) {
    for (const auto& [name, mapped] : google_fields()) {
      if (mapped.first == target) return name;
    }
  }
  return field;
}

RowNormalizer::RowNormalizer(const std::vector<std::string_view>& header, const JobOptions& options)
    : delimiter_(options.delimiter) {
  const FieldRules rules(options);
  std::set<std::string> seen;
  std::map<FieldTarget, std::string> filled;  // field → column that fills it
  columns_.reserve(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    Column col;
    col.name = text::normalize_header(header[i]);
    if (col.name.empty()) {
      col.target = FieldTarget::ignore;  // unnamed column (e.g. a trailing delimiter): nothing to call it
      columns_.push_back(std::move(col));
      continue;
    }
    if (!seen.insert(col.name).second) {
      throw FeedError("duplicated header column '" + col.name + "'");
    }
    col.target = rules.target_of(col.name);
    if (col.target != FieldTarget::attribute) {
      const auto [it, inserted] = filled.emplace(col.target, col.name);
      if (!inserted) {
        throw FeedError("header columns '" + it->second + "' and '" + col.name + "' both map to field " +
                        field_name(col.target));
      }
    }
    columns_.push_back(std::move(col));
  }
  if (filled.count(FieldTarget::sku) == 0) {
    throw FeedError("feed header has no key column '" + options.key + "' (the sku); columns are: " +
                    [&] {
                      std::string names;
                      for (const auto& c : columns_) names += (names.empty() ? "" : ", ") + c.name;
                      return names;
                    }());
  }
  if (filled.count(FieldTarget::name) == 0) {
    const std::string name = rules.name_of(FieldTarget::name);
    throw FeedError("feed header has no '" + name + "' column" + (name == "product_name" ? "" : " (product_name)"));
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    // The category fallback is listed too: it is an attribute on rows that have a category.
    if (columns_[i].target != FieldTarget::attribute && columns_[i].target != FieldTarget::category_fallback) continue;
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
  clear_row(out);
  RowExtras extras;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string_view value = fields[i];
    const Column& col = columns_[i];
    if (col.target != FieldTarget::ignore && std::memchr(value.data(), '\0', value.size()) != nullptr) {
      reason = "column '" + col.name + "' contains a NUL byte";
      return false;
    }
    if (!apply_field(col.target, col.name, value, out, extras, reason)) return false;
  }
  bool fallback_used = false;
  if (!settle_row(out, extras, fallback_used, reason)) return false;
  for (std::size_t i : attribute_order_) {
    if (fallback_used && columns_[i].target == FieldTarget::category_fallback) continue;
    if (!check_attribute(columns_[i].name, fields[i], reason)) return false;
    if (!fields[i].empty()) out.attributes.emplace_back(columns_[i].name, std::string(fields[i]));
  }
  return true;
}

std::string RowNormalizer::raw_text(const std::vector<std::string_view>& fields, std::size_t max) const {
  std::string raw;
  for (std::size_t i = 0; i < fields.size() && raw.size() <= max; ++i) {
    if (i != 0) raw.push_back(delimiter_);
    raw.append(fields[i].substr(0, max + 1));
  }
  return raw;
}

/// Normalised names seen so far and their targets. A feed has a few dozen;
/// past kMaxCached (a hostile feed) names are resolved per row instead.
struct KeyedRowNormalizer::Names {
  static constexpr std::size_t kMaxCached = 512;
  struct Entry {
    std::string raw;   ///< as the record spells it
    std::string name;  ///< normalised
    FieldTarget target;
  };
  std::deque<Entry> cached;
  std::deque<Entry> row;             ///< this row's uncached names
  std::vector<const Entry*> last;    ///< the previous row's entries, in order: usually the same
  std::vector<const Entry*> current;
};

KeyedRowNormalizer::KeyedRowNormalizer(const JobOptions& options)
    : rules_(options), names_(std::make_unique<Names>()) {}

KeyedRowNormalizer::~KeyedRowNormalizer() = default;

bool KeyedRowNormalizer::normalize(const std::vector<std::string_view>& fields, ProductRow& out,
                                   std::string& reason) const {
  Names& names = *names_;
  names.row.clear();
  names.current.clear();
  clear_row(out);
  out.sku.clear();
  out.name.clear();
  RowExtras extras;
  std::uint32_t filled = 0;  // bit per FieldTarget
  const std::size_t pairs = fields.size() / 2;
  for (std::size_t i = 0; i < pairs; ++i) {
    const std::string_view raw = fields[2 * i];
    const std::string_view value = fields[2 * i + 1];
    // Resolve the name: the previous row's i-th name, the cache, or once for this row.
    const Names::Entry* entry = nullptr;
    if (i < names.last.size() && names.last[i]->raw == raw) {
      entry = names.last[i];
    } else {
      for (const auto& e : names.cached) {
        if (e.raw == raw) {
          entry = &e;
          break;
        }
      }
      if (entry == nullptr) {
        std::deque<Names::Entry>& store = names.cached.size() < Names::kMaxCached ? names.cached : names.row;
        std::string name = text::normalize_header(raw);
        const FieldTarget target = name.empty() ? FieldTarget::ignore : rules_.target_of(name);
        store.push_back(Names::Entry{std::string(raw), std::move(name), target});
        entry = &store.back();
      }
    }
    names.current.push_back(entry);
    if (entry->target == FieldTarget::ignore) continue;
    if (std::memchr(value.data(), '\0', value.size()) != nullptr) {
      reason = "field '" + entry->name + "' contains a NUL byte";
      return false;
    }
    if (entry->target == FieldTarget::attribute) {
      if (entry->name.size() > kMaxAttributeKeyBytes) {
        reason = "field name '" + entry->name.substr(0, 40) + "...' is longer than " +
                 std::to_string(kMaxAttributeKeyBytes) + " bytes";
        return false;
      }
      if (!check_attribute(entry->name, value, reason)) return false;
      if (!value.empty()) out.attributes.emplace_back(entry->name, std::string(value));
      continue;
    }
    const std::uint32_t bit = 1u << static_cast<unsigned>(entry->target);
    if ((filled & bit) != 0) {
      reason = "field '" + entry->name + "' is given twice, or with another field that fills " +
               field_name(entry->target);
      return false;
    }
    filled |= bit;
    if (!apply_field(entry->target, entry->name, value, out, extras, reason)) return false;
  }
  // Only a row that resolved every name from the cache can serve as the next row's guess.
  if (names.row.empty()) names.last.swap(names.current);
  if ((filled & (1u << static_cast<unsigned>(FieldTarget::sku))) == 0) {
    reason = "no key field '" + rules_.name_of(FieldTarget::sku) + "' (the sku)";
    return false;
  }
  if ((filled & (1u << static_cast<unsigned>(FieldTarget::name))) == 0) {
    const std::string name = rules_.name_of(FieldTarget::name);
    reason = "no '" + name + "' field" + (name == "product_name" ? "" : " (product_name)");
    return false;
  }
  bool fallback_used = false;
  if (!settle_row(out, extras, fallback_used, reason)) return false;
  if (!fallback_used && !extras.fallback.empty()) {
    out.attributes.emplace_back(extras.fallback_column, std::string(extras.fallback));
  }
  std::sort(out.attributes.begin(), out.attributes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < out.attributes.size(); ++i) {
    if (out.attributes[i].first == out.attributes[i - 1].first) {
      reason = "field '" + std::string(out.attributes[i].first) + "' is given twice";
      return false;
    }
  }
  return true;
}

std::string KeyedRowNormalizer::raw_text(const std::vector<std::string_view>& fields, std::size_t max) const {
  if (fields.size() == 1) return std::string(fields[0].substr(0, max + 1));  // an unreadable line, as read
  std::string raw;
  for (std::size_t i = 0; i + 1 < fields.size() && raw.size() <= max; i += 2) {
    if (i != 0) raw.append(", ");
    raw.append(fields[i].substr(0, max + 1));
    raw.push_back('=');
    raw.append(fields[i + 1].substr(0, max + 1));
  }
  return raw;
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
