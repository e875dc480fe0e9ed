// Throughput of catalog::csv::Reader against libcsv (Debian libcsv-dev) on the
// same synthetic partner feed, fed in the same chunk sizes. Both sides count
// records and fields (and ours also sums field bytes) so neither can skip work.
//
// Run: build-csv/bench/csv_bench [--benchmark_filter=...]
// At the end it prints the ours/libcsv throughput ratio per chunk size, in
// MB/s = 10^6 bytes per CPU second (the table above uses MiB, "M/s").

#include <benchmark/benchmark.h>
#include <csv.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/csv/csv_reader.hpp"

namespace {

/// A deterministic ~50 MB feed in the partner format (docs/etl.md "Row rules"):
/// quoted names with commas, doubled quotes, non-ASCII text, prices with "$"
/// and thousands separators, a few descriptions with embedded line breaks,
/// CRLF line ends as most partner exports use.
std::string make_feed(std::size_t target_bytes) {
  std::mt19937_64 rng(42);  // mt19937_64's sequence is fixed by the standard
  auto pick = [&](const auto& v) -> const auto& { return v[rng() % std::size(v)]; };
  static const char* const kAdjectives[] = {
      "Classic", "Premium", "Compact", "Deluxe", "Eco", "Ultra", "Smart", "Vintage",
      "Café", "Größe XL", "Élégant", "Nordic", "日本製", "Ergonomic", "Wireless"};
  static const char* const kNouns[] = {"Kettle", "Desk Lamp", "Backpack", "Headphones",
                                       "Chair", "Blender", "Monitor", "Water Bottle",
                                       "Sneakers", "Jacket", "Mug", "Router"};
  static const char* const kBrands[] = {"Acme", "Globex", "Initech", "Umbrella",
                                        "Søstrene", "Müller & Co", "Zürich Works",
                                        "Hooli", "Stark Industries", "Wayne, Inc."};
  static const char* const kCategories[] = {"Home & Garden > Kitchen", "Electronics > Audio",
                                            "Apparel > Outerwear", "Office > Furniture",
                                            "Sports > Outdoor", "Electronics > Networking"};
  static const char* const kPhrases[] = {
      "Built to last with a brushed steel finish",
      "Ships in recyclable packaging",
      "Includes a 2-year limited warranty",
      "Fits a 15\" laptop",
      "Dishwasher safe, BPA free",
      "Crème de la crème of the range — now 20% lighter",
      "Certified by TÜV; energy class A++",
      "Compatible with most devices",
      "Hand wash only",
      "Available in five colours: red, blue, green, black and white",
      "省エネ設計で静音",
      "Customer favourite since 2019"};
  static const char* const kAvailability[] = {"In Stock", "In Stock", "In Stock",
                                              "Out of Stock", "Preorder", "Backorder"};
  static const char* const kCurrencies[] = {"USD", "USD", "EUR", "GBP", "usd"};

  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + '"';
  };

  std::string out = "sku,product_name,description,brand,category,price,currency,availability\r\n";
  out.reserve(target_bytes + 4096);
  for (std::uint64_t i = 0; out.size() < target_bytes; ++i) {
    std::string name = std::string(pick(kAdjectives)) + " " + pick(kNouns);
    if (rng() % 4 == 0) name += ", " + std::to_string(1 + rng() % 12) + "-pack";
    if (rng() % 10 == 0) name += " 27\" model";
    std::string desc;
    const int sentences = 1 + static_cast<int>(rng() % 5);
    for (int s = 0; s < sentences; ++s) {
      if (s) desc += (rng() % 50 == 0) ? "\r\n" : ". ";
      desc += pick(kPhrases);
    }
    const std::uint64_t cents = 199 + rng() % 250000;
    std::string price = std::to_string(cents / 100) + "." + std::to_string(100 + cents % 100).substr(1);
    if (rng() % 3 == 0) {
      if (cents >= 100000) price.insert(price.size() - 6, ",");
      price = "$" + price;
    }
    char sku[32];
    std::snprintf(sku, sizeof sku, "SKU-%08llu", static_cast<unsigned long long>(i));
    out += sku;
    out += ',';
    out += quote(name);
    out += ',';
    out += quote(desc);
    out += ',';
    out += quote(pick(kBrands));
    out += ',';
    out += quote(pick(kCategories));
    out += ',';
    out += quote(price);
    out += ',';
    out += pick(kCurrencies);
    out += ',';
    out += pick(kAvailability);
    out += "\r\n";
  }
  return out;
}

const std::string& feed() {
  static const std::string data = make_feed(50u << 20);
  return data;
}

struct Counts {
  std::uint64_t records = 0;
  std::uint64_t fields = 0;
  std::uint64_t field_bytes = 0;
  std::uint64_t errors = 0;
};

Counts run_ours(const std::string& data, std::size_t chunk) {
  Counts c;
  catalog::csv::Reader reader(catalog::csv::Options{}, [&](const catalog::csv::Record& r) {
    ++c.records;
    c.fields += r.fields.size();
    for (auto f : r.fields) c.field_bytes += f.size();
    c.errors += !r.error.empty();
  });
  const std::string_view all(data);
  for (std::size_t pos = 0; pos < all.size(); pos += chunk) reader.feed(all.substr(pos, chunk));
  reader.finish();
  return c;
}

void on_field(void*, std::size_t len, void* data) {
  auto* c = static_cast<Counts*>(data);
  ++c->fields;
  c->field_bytes += len;
}
void on_record(int, void* data) { ++static_cast<Counts*>(data)->records; }

Counts run_libcsv(const std::string& data, std::size_t chunk) {
  Counts c;
  csv_parser p;
  if (csv_init(&p, 0) != 0) throw std::runtime_error("csv_init failed");
  for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
    const std::size_t n = std::min(chunk, data.size() - pos);
    if (csv_parse(&p, data.data() + pos, n, on_field, on_record, &c) != n) {
      throw std::runtime_error(csv_strerror(csv_error(&p)));
    }
  }
  csv_fini(&p, on_field, on_record, &c);
  csv_free(&p);
  return c;
}

void report(benchmark::State& state, const Counts& c) {
  const auto bytes = static_cast<std::int64_t>(feed().size());
  state.SetBytesProcessed(bytes * static_cast<std::int64_t>(state.iterations()));
  state.counters["records"] = static_cast<double>(c.records);
  state.counters["fields"] = static_cast<double>(c.fields);
  state.counters["feed_MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_Ours(benchmark::State& state) {
  const auto& data = feed();
  Counts c;
  for (auto _ : state) {
    c = run_ours(data, static_cast<std::size_t>(state.range(0)));
    benchmark::DoNotOptimize(c);
  }
  if (c.errors != 0) state.SkipWithError("our reader reported errors on the valid feed");
  report(state, c);
}

void BM_Libcsv(benchmark::State& state) {
  const auto& data = feed();
  Counts c;
  for (auto _ : state) {
    c = run_libcsv(data, static_cast<std::size_t>(state.range(0)));
    benchmark::DoNotOptimize(c);
  }
  report(state, c);
}

// 64 KiB is what the ETL reads from S3 per callback; 1 MiB shows the ceiling.
BENCHMARK(BM_Ours)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Libcsv)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

/// Console output plus a remembered MB/s per benchmark, for the ratio line.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Plain tabular text: output usually lands in a log or a doc, not a TTY.
  RatioReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.error_occurred) continue;
      // With --benchmark_repetitions the median stands for the benchmark;
      // otherwise the single iteration run does.
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) mbps_[run.run_name.str()] = it->second.value / 1e6;
    }
  }

  void print_ratios() const {
    for (const auto& [name, ours] : mbps_) {
      if (name.rfind("BM_Ours/", 0) != 0) continue;
      const auto base = mbps_.find("BM_Libcsv/" + name.substr(8));
      if (base == mbps_.end()) continue;
      std::printf("chunk %-8s ours %8.1f MB/s  libcsv %8.1f MB/s  ratio ours/libcsv %.2fx\n",
                  name.substr(8).c_str(), ours, base->second, ours / base->second);
    }
  }

 private:
  std::map<std::string, double> mbps_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Same feed, same answer: a cheap guard that the comparison is fair.
  const auto ours = run_ours(feed(), 64 << 10);
  const auto theirs = run_libcsv(feed(), 64 << 10);
  std::printf("feed: %.1f MB, %llu records, %llu fields (libcsv: %llu records, %llu fields)\n",
              static_cast<double>(feed().size()) / 1e6,
              static_cast<unsigned long long>(ours.records),
              static_cast<unsigned long long>(ours.fields),
              static_cast<unsigned long long>(theirs.records),
              static_cast<unsigned long long>(theirs.fields));
  if (ours.records != theirs.records || ours.fields != theirs.fields) {
    std::fprintf(stderr, "record/field counts differ between parsers\n");
    return 1;
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
