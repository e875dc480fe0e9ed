// Row normalisation + content/key hashing throughput (rows/s): the per-row CPU
// cost of the ETL outside CSV parsing and the database.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "catalog/etl/hash.hpp"
#include "catalog/etl/normalizer.hpp"

namespace {

using namespace catalog::etl;

std::vector<std::vector<std::string>> make_rows(std::size_t n, bool with_attributes) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::string> r = {"SKU-" + std::to_string(10000000 + i),
                                  "Product number " + std::to_string(i),
                                  "Description of item " + std::to_string(i) + ", nice",
                                  "Brand " + std::to_string(i % 8),
                                  "Category " + std::to_string(i % 7),
                                  "$" + std::to_string(1 + i % 2000) + "." + std::to_string(10 + i % 90),
                                  "usd",
                                  i % 3 == 0 ? "In Stock" : "Out of Stock"};
    if (with_attributes) {
      r.push_back(i % 2 ? "red" : "blue");
      r.push_back(std::to_string(i % 50) + " cm");
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void BM_NormalizeAndHash(benchmark::State& state) {
  const bool attrs = state.range(0) != 0;
  std::vector<std::string_view> header = {"sku",   "product_name", "description", "brand",
                                          "category", "price",     "currency",    "availability"};
  if (attrs) {
    header.push_back("colour");
    header.push_back("width");
  }
  const RowNormalizer normalizer(header, JobOptions{});
  const auto rows = make_rows(4096, attrs);
  std::vector<std::vector<std::string_view>> views;
  for (const auto& r : rows) views.emplace_back(r.begin(), r.end());
  ProductRow row;
  std::string reason;
  std::string scratch;
  std::size_t i = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    const auto& fields = views[i++ & 4095];
    if (!normalizer.normalize(fields, row, reason)) state.SkipWithError(reason.c_str());
    acc ^= content_hash(row, scratch) ^ key_hash(row.sku) ^ key_check(row.sku);
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_NormalizeAndHash)->Arg(0)->Arg(1)->ArgNames({"attributes"});

void BM_Xxh64(benchmark::State& state) {
  const std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  std::uint64_t acc = 0;
  for (auto _ : state) acc ^= xxh64(data);
  benchmark::DoNotOptimize(acc);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Xxh64)->Arg(16)->Arg(128)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
