// What reading a feed costs per format, without S3 or PostgreSQL: the same
// rows (bench/etl/gen_feed.py's shape) as our CSV and as a Google Merchant
// XML feed (bench/etl/gen_merchant_xml.py's shape), each read, normalised and
// content-hashed as a run does. The pipeline's own part (key table, COPY) is
// the same for both formats, so XML's cost beside CSV's is what this shows.
//
// Run: build/bench/feed_format_bench [--benchmark_filter=...]; it prints the
// XML/CSV ratio at the end.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/etl/job_options.hpp"
#include "catalog/etl/normalizer.hpp"
#include "catalog/feeds/record_reader.hpp"

namespace {

constexpr int kRows = 100'000;
constexpr std::size_t kChunk = 1 << 20;  // what an S3 read hands the pipeline

struct Row {
  std::string sku, name, description, brand, category, price, currency, availability, color;
};

Row make_row(int i) {
  static const char* const kNames[] = {"Café crème", "Kaffeebecher groß", "Чайник", "Tool"};
  static const char* const kBrands[] = {"Acme", "Globex", "Initech", "Hooli"};
  static const char* const kCategories[] = {"Kitchen", "Garden", "Tools", "Office"};
  static const char* const kColors[] = {"red", "green", "blue", "black", "white"};
  static const char* const kAvailability[] = {"In Stock", "Out of Stock", "in stock"};
  char sku[16];
  std::snprintf(sku, sizeof sku, "SKU-%07d", i);
  const long cents = (static_cast<long>(i) * 7919) % 10'000'000;
  char price[32];
  std::snprintf(price, sizeof price, "%ld.%02ld", cents / 100, cents % 100);
  return {sku,
          std::string(kNames[i % 4]) + " " + std::to_string(i),
          i % 7 == 0 ? "Two lines:\nsecond, with \"quotes\" #" + std::to_string(i)
                     : "Sturdy, reliable item #" + std::to_string(i),
          kBrands[i % 4],
          kCategories[i % 4],
          price,
          i % 3 != 0 ? "USD" : "EUR",
          kAvailability[i % 3],
          kColors[i % 5]};
}

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

const std::string& csv_feed() {
  static const std::string feed = [] {
    std::string out = "sku,product_name,description,brand,category,price,currency,availability,color\n";
    for (int i = 1; i <= kRows; ++i) {
      const Row r = make_row(i);
      out += r.sku + "," + csv_quote(r.name) + "," + csv_quote(r.description) + "," + r.brand + "," + r.category +
             "," + r.price + "," + r.currency + "," + r.availability + "," + r.color + "\n";
    }
    return out;
  }();
  return feed;
}

const std::string& xml_feed() {
  static const std::string feed = [] {
    std::string out =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
        "xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n<title>bench</title>\n";
    for (int i = 1; i <= kRows; ++i) {
      const Row r = make_row(i);
      out += "<item>\n<g:id>" + r.sku + "</g:id>\n<title>" + xml_escape(r.name) + "</title>\n";
      out += "<description><![CDATA[" + r.description + "]]></description>\n";
      out += "<g:brand>" + r.brand + "</g:brand>\n<g:product_type>" + r.category + "</g:product_type>\n";
      out += "<g:availability>" + r.availability + "</g:availability>\n<g:color>" + r.color + "</g:color>\n";
      out += "<g:price>" + r.price + " " + r.currency + "</g:price>\n</item>\n";
    }
    return out + "</channel>\n</rss>\n";
  }();
  return feed;
}

/// Reads `feed` in kChunk pieces, normalising and hashing every record.
/// Returns the sum of the hashes (so nothing can be skipped).
std::uint64_t read_feed(const std::string& feed, catalog::feeds::Format format,
                        const catalog::etl::JobOptions& options) {
  using namespace catalog;
  std::unique_ptr<etl::RowMapper> mapper;
  if (feeds::is_keyed(format)) mapper = std::make_unique<etl::KeyedRowNormalizer>(options);
  etl::ProductRow row;
  std::string reason, scratch;
  std::uint64_t sum = 0;
  const auto reader = feeds::make_record_reader(format, feeds::ReaderOptions{}, [&](const csv::Record& rec) {
    if (!mapper) {
      mapper = std::make_unique<etl::RowNormalizer>(rec.fields, options);
      return;
    }
    if (!rec.error.empty() || !mapper->normalize(rec.fields, row, reason)) {
      throw std::runtime_error("bench feed rejected a row: " + reason + rec.error);
    }
    sum += etl::content_hash(row, scratch);
  });
  for (std::size_t at = 0; at < feed.size(); at += kChunk) reader->feed(std::string_view(feed).substr(at, kChunk));
  reader->finish();
  return sum;
}

void run(benchmark::State& state, const std::string& feed, catalog::feeds::Format format,
         const nlohmann::json& options_json) {
  const auto options = catalog::etl::JobOptions::from_json(options_json);
  std::uint64_t sum = 0;
  for (auto _ : state) sum += read_feed(feed, format, options);
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * feed.size()));
  state.SetItemsProcessed(state.iterations() * kRows);
  state.counters["feed_MB"] = static_cast<double>(feed.size()) / 1e6;
}

void BM_Csv(benchmark::State& state) {
  run(state, csv_feed(), catalog::feeds::Format::csv, nlohmann::json::object());
}
void BM_MerchantXml(benchmark::State& state) {
  run(state, xml_feed(), catalog::feeds::Format::xml, {{"profile", "google_merchant"}});
}
BENCHMARK(BM_Csv)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_MerchantXml)->Unit(benchmark::kMillisecond)->MinTime(2.0);

/// Keeps each benchmark's CPU time per iteration for the closing ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration) cpu_[r.benchmark_name()] = r.GetAdjustedCPUTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> cpu_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto csv = reporter.cpu_.find("BM_Csv/min_time:2.000");
  const auto xml = reporter.cpu_.find("BM_MerchantXml/min_time:2.000");
  if (csv != reporter.cpu_.end() && xml != reporter.cpu_.end() && csv->second > 0) {
    std::printf("Google Merchant XML / CSV, read + normalise + hash of the same %d rows: %.2fx CPU time\n", kRows,
                xml->second / csv->second);
  }
  return 0;
}
