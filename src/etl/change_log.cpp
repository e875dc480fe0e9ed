#include "etl/change_log.hpp"

#include <chrono>
#include <string>

#include "catalog/db/product_loader.hpp"

namespace catalog::etl {
namespace {

// https://www.postgresql.org/docs/15/sql-copy.html (text format).
constexpr const char* kCopyInserted = "COPY run_changes (run_id, source, sku, kind) FROM STDIN";

// From etl_matched (src/etl/apply_step.cpp), which holds each staged row
// beside the products row's values before the UPDATE: no second look-up of
// products. `fields` names each field whose value differs, with the value
// before and after (price as text, "10.00", like the products API shows it).
// One expression per field, concatenated: a per-row VALUES list aggregated
// with jsonb_object_agg cost four times as much (85 against 22 ms for
// 10,000 rows).
std::string changed_field(const char* name, const std::string& before, const std::string& after) {
  return "CASE WHEN " + before + " IS DISTINCT FROM " + after + " THEN jsonb_build_object('" + name +
         "', jsonb_build_object('before', " + before + ", 'after', " + after + ")) ELSE '{}'::jsonb END";
}

const std::string& record_staged_sql() {
  static const std::string sql = [] {
    struct Field {
      const char* name;
      const char* as_text;  ///< a cast to text where the API shows the value as text
    };
    std::string fields;
    for (const Field& f : {Field{"name", ""}, Field{"description", ""}, Field{"brand", ""}, Field{"category", ""},
                           Field{"price", "::text"}, Field{"currency", "::text"}, Field{"availability", ""},
                           Field{"attributes", ""}}) {
      if (!fields.empty()) fields += " || ";
      fields += changed_field(f.name, std::string("m.before_") + f.name + f.as_text,
                              std::string("m.") + f.name + f.as_text);
    }
    return "INSERT INTO run_changes (run_id, source, sku, kind, fields) "
           "SELECT $1::uuid, m.source, m.sku, CASE WHEN m.before_deleted_at IS NULL THEN 'updated' ELSE 'revived' END, " +
           fields + " FROM etl_matched AS m";
  }();
  return sql;
}

constexpr const char* kRecordGone = R"sql(
INSERT INTO run_changes (run_id, source, sku, kind)
SELECT $2::uuid, p.source, p.sku, 'deleted'
FROM etl_gone AS g JOIN products AS p ON p.source = $1 AND p.sku = g.sku AND p.deleted_at IS NULL
)sql";

/// Adds the time until it goes out of scope to `total`.
class Timed {
 public:
  explicit Timed(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Timed() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

ChangeLog::ChangeLog(pqxx::work& tx, const std::string& source, const std::string& run_id, bool enabled,
                     const std::string& temp_dir, std::size_t spill_after_bytes)
    : tx_(tx), source_(source), run_id_(run_id), enabled_(enabled && !run_id.empty()),
      inserted_(temp_dir, spill_after_bytes) {
  if (!enabled_) return;
  db::append_copy_text(prefix_, run_id_);
  prefix_.push_back('\t');
  db::append_copy_text(prefix_, source_);
  prefix_.push_back('\t');
}

void ChangeLog::add_inserted(std::string_view sku) {
  if (!enabled_) return;
  std::string& buf = inserted_.buffer();
  buf.append(prefix_);
  db::append_copy_text(buf, sku);
  buf.append("\tinserted\n");
  inserted_.count_row();
  inserted_.maybe_spill();
}

std::uint64_t ChangeLog::flush_inserted() {
  if (!enabled_ || inserted_.empty()) return 0;
  const Timed timed(seconds_);
  db::CopyIn copy(tx_, kCopyInserted);
  inserted_.replay(copy);
  copy.finish();
  recorded_ += inserted_.rows();
  return inserted_.rows();
}

std::uint64_t ChangeLog::record_staged() { return record(record_staged_sql(), run_id_); }

std::uint64_t ChangeLog::record_gone() { return record(kRecordGone, source_, run_id_); }

template <typename... Params>
std::uint64_t ChangeLog::record(const std::string& insert_select, const Params&... params) {
  if (!enabled_) return 0;
  const Timed timed(seconds_);
  const auto n = tx_.exec_params(insert_select, params...).affected_rows();
  recorded_ += n;
  return n;
}

}  // namespace catalog::etl
