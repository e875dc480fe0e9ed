#include "catalog/etl/job_options.hpp"

#include <array>
#include <cmath>
#include <set>

#include "catalog/core/errors.hpp"
#include "etl/text.hpp"

namespace catalog::etl {
namespace {

constexpr std::array<const char*, 8> kKnownFields = {"sku",      "product_name", "description", "brand",
                                                     "category", "price",        "currency",    "availability"};

[[noreturn]] void invalid(const std::string& option, const std::string& message) {
  throw ValidationError("options." + option, message);
}

std::string require_string(const nlohmann::json& value, const std::string& option) {
  if (!value.is_string()) invalid(option, "options." + option + " must be a string");
  return value.get<std::string>();
}

}  // namespace

bool is_known_feed_field(const std::string& name) {
  for (const char* field : kKnownFields) {
    if (name == field) return true;
  }
  return false;
}

bool MaxRejects::exceeded(std::uint64_t rejected, std::uint64_t read) const noexcept {
  if (!is_ratio) return rejected > count;
  return static_cast<double>(rejected) > ratio * static_cast<double>(read);
}

std::string MaxRejects::describe() const {
  if (!is_ratio) return std::to_string(count);
  nlohmann::json j = ratio * 100.0;
  return j.dump() + "%";
}

std::uint64_t MaxDeletes::allowed(std::uint64_t live) const noexcept {
  if (!is_ratio) return count;
  // floor(ratio × live); the product is exact enough below 2^53 rows.
  return static_cast<std::uint64_t>(std::floor(ratio * static_cast<double>(live)));
}

std::string MaxDeletes::describe() const {
  if (!is_ratio) return std::to_string(count);
  return nlohmann::json(ratio).dump();
}

JobOptions JobOptions::from_json(const nlohmann::json& options) {
  JobOptions out;
  if (options.is_null()) return out;
  if (!options.is_object()) throw ValidationError("options", "options must be a JSON object");

  for (const auto& [name, value] : options.items()) {
    if (name == "delimiter") {
      const std::string d = require_string(value, name);
      if (d.size() != 1 || static_cast<unsigned char>(d[0]) >= 0x80) {
        invalid(name, "options.delimiter must be exactly one ASCII character");
      }
      if (d[0] == '"' || d[0] == '\r' || d[0] == '\n') {
        invalid(name, "options.delimiter cannot be a quote or a line break");
      }
      out.delimiter = d[0];
    } else if (name == "header") {
      if (!value.is_object()) invalid(name, "options.header must be an object mapping feed column names to fields");
      std::set<std::string> targets;
      for (const auto& [column, target_json] : value.items()) {
        const std::string col = text::normalize_header(column);
        if (col.empty()) invalid(name, "options.header has an empty column name");
        if (!target_json.is_string()) {
          invalid(name, "options.header['" + column + "'] must be a string naming a field");
        }
        const std::string target = text::normalize_header(target_json.get<std::string>());
        if (!is_known_feed_field(target)) {
          invalid(name, "options.header['" + column + "']: unknown field '" + target_json.get<std::string>() +
                            "' (expected one of sku, product_name, description, brand, category, price, "
                            "currency, availability)");
        }
        if (!out.header.emplace(col, target).second) {
          invalid(name, "options.header names column '" + col + "' twice");
        }
        if (!targets.insert(target).second) {
          invalid(name, "options.header maps two columns onto field '" + target + "'");
        }
      }
    } else if (name == "key") {
      const std::string key = text::normalize_header(require_string(value, name));
      if (key.empty()) invalid(name, "options.key must name a feed column");
      out.key = key;
    } else if (name == "max_rejects") {
      if (value.is_number_unsigned() || value.is_number_integer()) {
        if (value.is_number_integer() && !value.is_number_unsigned() && value.get<std::int64_t>() < 0) {
          invalid(name, "options.max_rejects must be a non-negative count or a ratio between 0 and 1");
        }
        out.max_rejects.count = value.get<std::uint64_t>();
      } else if (value.is_number_float()) {
        const double r = value.get<double>();
        if (r > 0.0 && r < 1.0) {
          out.max_rejects.is_ratio = true;
          out.max_rejects.ratio = r;
        } else if (r >= 0.0 && r < 1e15 && std::floor(r) == r) {
          out.max_rejects.count = static_cast<std::uint64_t>(r);  // 3.0 means 3 rows
        } else {
          invalid(name, "options.max_rejects must be a non-negative count or a ratio between 0 and 1");
        }
      } else {
        invalid(name, "options.max_rejects must be a non-negative count or a ratio between 0 and 1");
      }
    } else if (name == "max_deletes") {
      const char* kMessage =
          "options.max_deletes must be a non-negative integer count, or a ratio between 0.0 and 1.0 of the "
          "source's live rows (1.0 or \"100%\" allows deleting all of them)";
      if (value.is_number_unsigned() || value.is_number_integer()) {
        if (!value.is_number_unsigned() && value.get<std::int64_t>() < 0) invalid(name, kMessage);
        out.max_deletes.is_ratio = false;
        out.max_deletes.count = value.get<std::uint64_t>();
      } else if (value.is_number_float()) {
        // A decimal point means a ratio, so 1.0 is "all", while 1 is one row.
        const double r = value.get<double>();
        if (!(r >= 0.0 && r <= 1.0)) invalid(name, kMessage);
        out.max_deletes.is_ratio = true;
        out.max_deletes.ratio = r;
      } else if (value.is_string()) {
        // "100%": unambiguous where a client's JSON writer turns 1.0 into 1 (JavaScript does).
        const std::string text = value.get<std::string>();
        double percent = -1;
        std::size_t used = 0;
        if (text.size() >= 2 && text.back() == '%' && text.find_first_not_of("0123456789.") == text.size() - 1) {
          try {
            percent = std::stod(text.substr(0, text.size() - 1), &used);
          } catch (const std::exception&) {
            percent = -1;
          }
        }
        if (used != text.size() - 1 || !(percent >= 0.0 && percent <= 100.0)) invalid(name, kMessage);
        out.max_deletes.is_ratio = true;
        out.max_deletes.ratio = percent / 100.0;
      } else {
        invalid(name, kMessage);
      }
    } else if (name == "missing_rows") {
      const std::string mode = require_string(value, name);
      if (mode == "keep") {
        out.missing_rows = MissingRows::keep;
      } else if (mode == "soft_delete") {
        out.missing_rows = MissingRows::soft_delete;
      } else {
        invalid(name, "options.missing_rows must be 'keep' or 'soft_delete'");
      }
    } else if (name == "format") {
      const auto format = feeds::parse_format(require_string(value, name));
      if (!format) invalid(name, "options.format must be one of csv, tsv, ndjson, xml (default: from the object's name)");
      out.format = format;
    } else if (name == "profile") {
      if (require_string(value, name) != "google_merchant") {
        invalid(name, "options.profile must be 'google_merchant' (or absent for our own column names)");
      }
      out.profile = Profile::google_merchant;
    } else {
      invalid(name, "unknown option '" + name +
                        "' (expected delimiter, format, header, key, max_deletes, max_rejects, missing_rows, "
                        "profile)");
    }
  }
  // google_merchant names the key `id`, unless the job names it (key, or a
  // header column mapped to sku).
  if (out.profile == Profile::google_merchant && !options.contains("key")) {
    out.key = "id";
    for (const auto& [column, target] : out.header) {
      if (target == "sku") out.key = column;
    }
  }

  // The key column must not be mapped onto another field, and no other
  // column may be mapped onto sku when a key column is named.
  const auto mapped_key = out.header.find(out.key);
  if (mapped_key != out.header.end() && mapped_key->second != "sku") {
    invalid("key", "options.key column '" + out.key + "' is also mapped to field '" + mapped_key->second +
                       "' in options.header");
  }
  if (out.key != "sku") {
    for (const auto& [column, target] : out.header) {
      if (target == "sku" && column != out.key) {
        invalid("header", "options.header maps column '" + column + "' to sku but options.key is '" + out.key +
                              "'");
      }
    }
  }
  return out;
}

nlohmann::json JobOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["delimiter"] = std::string(1, delimiter);
  j["header"] = nlohmann::json::object();
  for (const auto& [column, target] : header) j["header"][column] = target;
  j["key"] = key;
  if (max_rejects.is_ratio) {
    j["max_rejects"] = max_rejects.ratio;
  } else {
    j["max_rejects"] = max_rejects.count;
  }
  if (max_deletes.is_ratio) {
    j["max_deletes"] = max_deletes.ratio;  // a float, also 1.0 and 0.0: read back as a ratio
  } else {
    j["max_deletes"] = max_deletes.count;
  }
  j["missing_rows"] = missing_rows == MissingRows::keep ? "keep" : "soft_delete";
  if (format) j["format"] = feeds::format_name(*format);
  if (profile == Profile::google_merchant) j["profile"] = "google_merchant";
  return j;
}

}  // namespace catalog::etl
