#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/feeds/record_reader.hpp"

namespace catalog::etl {

/// What to do with products of the job's source that are absent from a feed.
enum class MissingRows { keep, soft_delete };

/// `max_rejects`: an absolute count (0 = any bad row fails the run) or a
/// ratio 0 < r < 1 of the rows read.
struct MaxRejects {
  bool is_ratio = false;
  std::uint64_t count = 0;
  double ratio = 0.0;

  /// True once `rejected` is over a count limit (checked while streaming, so a
  /// hopeless run stops early). Ratios can only be judged at the end.
  bool exceeded_early(std::uint64_t rejected) const noexcept { return !is_ratio && rejected > count; }
  /// Final verdict once every row has been read.
  bool exceeded(std::uint64_t rejected, std::uint64_t read) const noexcept;
  /// "3" or "0.5%": for error messages.
  std::string describe() const;
};

/// `max_deletes`: how many of the source's live products one
/// missing_rows=soft_delete run may soft-delete. A JSON integer is a count
/// (0 = none); a fraction 0 <= r <= 1 written with a decimal point is a
/// ratio of the live rows before the run (1.0 = all of them); a string
/// "N%" (0..100) is the same ratio. Guards a full
/// catalogue against a truncated but well-formed snapshot.
struct MaxDeletes {
  bool is_ratio = true;
  std::uint64_t count = 0;
  double ratio = 0.5;

  /// The most rows a run may soft-delete when the source has `live` live rows.
  std::uint64_t allowed(std::uint64_t live) const noexcept;
  bool exceeded(std::uint64_t deletes, std::uint64_t live) const noexcept { return deletes > allowed(live); }
  /// "0.5" or "10": as written in the options, for error messages.
  std::string describe() const;
};

/// Attribute names a feed follows (docs/formats.md): ours (`sku`,
/// `product_name`, ...) or Google Merchant Center's (`id`, `title`, ...).
enum class Profile { none, google_merchant };

/// Validated job options (docs/etl.md; stored in jobs.options).
struct JobOptions {
  char delimiter = ',';
  /// Feed column name (trimmed, lower-cased) → feed field it fills: one of
  /// sku, product_name, description, brand, category, price, currency,
  /// availability.
  std::map<std::string, std::string> header;
  /// Feed column (trimmed, lower-cased) whose values are the product sku.
  std::string key = "sku";
  MaxRejects max_rejects;
  MissingRows missing_rows = MissingRows::keep;
  MaxDeletes max_deletes;
  /// Feed format; unset: from the object's name (feeds::format_for_object).
  std::optional<feeds::Format> format;
  Profile profile = Profile::none;

  /// The format of a run on `object_name`.
  feeds::Format format_for(const std::string& object_name) const {
    return format ? *format : feeds::format_for_object(object_name);
  }

  /// Parses and validates `options` (an object, or null for all defaults).
  /// Throws catalog::ValidationError("options.<name>", message) naming the
  /// offending option; unknown options are rejected.
  static JobOptions from_json(const nlohmann::json& options);

  /// Canonical form: every option present (defaults filled in; `format` and
  /// `profile` only when set, so that jobs from before them keep their
  /// canonical text and their unchanged-source shortcut), keys sorted,
  /// names normalised. Two option sets that behave the same have the same
  /// canonical JSON, so it is what the unchanged-source shortcut compares.
  nlohmann::json to_json() const;
  std::string canonical() const { return to_json().dump(); }
};

/// The feed fields a header column can be mapped to.
bool is_known_feed_field(const std::string& name);

}  // namespace catalog::etl
