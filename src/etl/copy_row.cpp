#include "etl/copy_row.hpp"

#include "catalog/core/json_string.hpp"
#include "catalog/db/product_loader.hpp"

namespace catalog::etl {
namespace {

// A tab, then the field as COPY text, or \N for an empty optional field.
void append_text_or_null(std::string& out, const std::string& field) {
  out.push_back('\t');
  if (field.empty()) {
    db::append_copy_null(out);
  } else {
    db::append_copy_text(out, field);
  }
}

}  // namespace

void append_copy_row(std::string& out, std::string_view source_escaped, const ProductRow& row, std::uint64_t hash,
                     std::string_view run_id_escaped, std::string& json) {
  out.append(source_escaped);
  out.push_back('\t');
  db::append_copy_text(out, row.sku);
  out.push_back('\t');
  db::append_copy_text(out, row.name);
  for (const std::string* f : {&row.description, &row.brand, &row.category}) {
    append_text_or_null(out, *f);
  }
  out.push_back('\t');
  if (row.has_price) {
    out.append(row.price_text());
  } else {
    db::append_copy_null(out);
  }
  for (const std::string* f : {&row.currency, &row.availability}) {
    append_text_or_null(out, *f);
  }
  out.push_back('\t');
  json.clear();
  json.push_back('{');
  for (std::size_t i = 0; i < row.attributes.size(); ++i) {
    if (i != 0) json.push_back(',');
    append_json_string(json, row.attributes[i].first);
    json.push_back(':');
    append_json_string(json, row.attributes[i].second);
  }
  json.push_back('}');
  db::append_copy_text(out, json);
  out.push_back('\t');
  out.append(std::to_string(static_cast<std::int64_t>(hash)));
  out.push_back('\t');
  out.append(run_id_escaped);
  out.push_back('\n');
}

}  // namespace catalog::etl
