// S3 client microbenchmarks.
//  - BM_SignV4: SigV4 signatures per second (pure CPU).
//  - BM_GetObjectStream: streaming GetObject of a large object from a loopback
//    S3-compatible server, in MB/s, bytes handed to a sink that only counts.
//  - BM_CurlCliBaseline: the `curl` command line fetching the same object from
//    the same server in the same run (signed by curl's own --aws-sigv4), as the
//    baseline the client's throughput is read against.
// The network benchmarks need CATALOG_BENCH_S3_ENDPOINT, _BUCKET, _KEY,
// _ACCESS_KEY_ID, _SECRET_ACCESS_KEY and _REGION; bench/s3_bench.sh starts
// s3rver, uploads the object and sets them.

#include <cstdio>
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>

#include "catalog/s3/s3_client.hpp"
#include "catalog/s3/sigv4.hpp"

namespace {

using namespace catalog;
using namespace catalog::s3;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

void BM_SignV4(benchmark::State& state) {
  const Credentials creds{"AKIAIOSFODNN7EXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                          Secret("session-token"), std::nullopt, "static"};
  SigningInput in;
  in.method = "GET";
  in.host = "raw-feeds.s3.eu-west-1.amazonaws.com";
  in.canonical_path = "/" + uri_encode("partners/acme/feeds/2024-06-01/products feed+v2.csv", true);
  in.query = {{"list-type", "2"}, {"prefix", "partners/acme/"}, {"max-keys", "1000"}};
  in.headers = {{"Range", "bytes=1048576-"}, {"If-Match", "\"9b2cf535f27731c974343645a3985328\""}};
  in.region = "eu-west-1";
  in.time = std::chrono::system_clock::now();
  in.payload_hash = std::string(kUnsignedPayload);
  for (auto _ : state) {
    auto signed_request = sign_v4(in, creds);
    benchmark::DoNotOptimize(signed_request.signature);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["signatures/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SignV4);

struct Target {
  std::string endpoint, bucket, key, access_key, secret, region;
  bool ok() const { return !endpoint.empty() && !bucket.empty() && !key.empty() && !access_key.empty(); }
};

Target target() {
  return Target{env("CATALOG_BENCH_S3_ENDPOINT"), env("CATALOG_BENCH_S3_BUCKET"), env("CATALOG_BENCH_S3_KEY"),
                env("CATALOG_BENCH_S3_ACCESS_KEY_ID"), env("CATALOG_BENCH_S3_SECRET_ACCESS_KEY"),
                env("CATALOG_BENCH_S3_REGION").empty() ? "us-east-1" : env("CATALOG_BENCH_S3_REGION")};
}

void BM_GetObjectStream(benchmark::State& state) {
  const Target t = target();
  if (!t.ok()) {
    state.SkipWithError("CATALOG_BENCH_S3_* not set: run bench/s3_bench.sh");
    return;
  }
  SystemClock clock;
  S3Config config;
  config.endpoint = t.endpoint;
  config.region = t.region;
  CurlS3Client client(config,
                      std::make_shared<StaticCredentialsProvider>(
                          Credentials{t.access_key, Secret(t.secret), Secret(), std::nullopt, "static"}),
                      clock);
  std::uint64_t total = 0;
  for (auto _ : state) {
    std::uint64_t bytes = 0;
    client.get_object(t.bucket, t.key, [&](const char* d, std::size_t n) {
      benchmark::DoNotOptimize(d);
      bytes += n;
    });
    total += bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_GetObjectStream)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_CurlCliBaseline(benchmark::State& state) {
  const Target t = target();
  if (!t.ok()) {
    state.SkipWithError("CATALOG_BENCH_S3_* not set: run bench/s3_bench.sh");
    return;
  }
  // Credentials go through the environment-expanded shell, never argv of this process's logs.
  const std::string cmd = "curl -sS --fail -o /dev/null -w '%{size_download}' --aws-sigv4 'aws:amz:" + t.region +
                          ":s3' --user \"$CATALOG_BENCH_S3_ACCESS_KEY_ID:$CATALOG_BENCH_S3_SECRET_ACCESS_KEY\" "
                          "-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' '" +
                          t.endpoint + "/" + t.bucket + "/" + uri_encode(t.key, true) + "'";
  std::uint64_t total = 0;
  for (auto _ : state) {
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
      state.SkipWithError("cannot run curl");
      return;
    }
    char buf[64] = {0};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, p);
    if (pclose(p) != 0 || n == 0) {
      state.SkipWithError("curl failed");
      return;
    }
    total += std::strtoull(buf, nullptr, 10);
  }
  state.SetBytesProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_CurlCliBaseline)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
