#pragma once

// The set-up most integration tests share: a fresh database, the service's
// environment with the test S3 server, a path-style S3 client for putting
// and reading feed objects under a per-test key prefix, and the service
// itself started in-process by start(overrides).

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "catalog/core/clock.hpp"
#include "catalog/s3/credentials.hpp"
#include "catalog/s3/s3_client.hpp"
#include "support/app_fixture.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {

/// The current test's name, e.g. "RunsOnce".
inline std::string current_test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

/// A path-style S3 client of the test server (the service's own client
/// class, with the credentials of s3_env()).
class TestS3 {
 public:
  TestS3() : TestS3(s3_env()) {}
  explicit TestS3(const std::map<std::string, std::string>& env) : bucket_(env.at("S3_RAW_BUCKET")) {
    auto credentials = std::make_shared<s3::StaticCredentialsProvider>(
        s3::Credentials{env.at("AWS_ACCESS_KEY_ID"), Secret(env.at("AWS_SECRET_ACCESS_KEY")), {}, {}, "static"});
    s3::S3Config config;
    config.endpoint = env.at("S3_ENDPOINT");
    config.region = env.at("AWS_REGION");
    config.force_path_style = true;
    client_ = std::make_unique<s3::CurlS3Client>(config, std::move(credentials), clock_);
  }

  s3::CurlS3Client& client() { return *client_; }
  const std::string& bucket() const { return bucket_; }
  void put(const std::string& key, std::string_view body) { client_->put_object(bucket_, key, body); }
  /// The bytes of the object at `s3://bucket/key`-style `uri`.
  std::string get_uri(const std::string& uri) {
    const auto parsed = s3::S3Uri::parse(uri);
    std::string out;
    client_->get_object(parsed.bucket, parsed.key, [&](const char* d, std::size_t n) { out.append(d, n); });
    return out;
  }

 private:
  SystemClock clock_;
  std::string bucket_;
  std::unique_ptr<s3::CurlS3Client> client_;
};

/// Base fixture: derive, pass a short name (database prefix and S3 key
/// prefix), then start() the service when the test has set what it needs.
class S3AppTest : public ::testing::Test {
 protected:
  explicit S3AppTest(std::string name) : name_(std::move(name)) {}

  void SetUp() override {
    dsn_ = create_test_database(name_);
    env_ = base_env(dsn_);
    for (const auto& [k, v] : s3_env()) env_[k] = v;
    env_["JOB_WORKERS"] = "1";
    bucket_ = env_["S3_RAW_BUCKET"];
    prefix_ = name_ + "/" + current_test_name() + "-" + std::to_string(::getpid()) + "/";
  }

  /// Starts the service with env_ plus `overrides` (kept in env_ for a later
  /// restart); a running instance is shut down first.
  void start(const std::map<std::string, std::string>& overrides = {}) {
    app_.reset();
    for (const auto& [k, v] : overrides) env_[k] = v;
    app_ = std::make_unique<RunningApp>(env_);
  }
  const HttpClient& client() { return app_->client(); }

  std::string uri(const std::string& key) const { return "s3://" + bucket_ + "/" + prefix_ + key; }
  void put_object(const std::string& key, const std::string& body) { s3_.put(prefix_ + key, body); }

  /// PUT /jobs/{id}; the caller checks the status.
  HttpResult put_job(const std::string& id, const nlohmann::json& body) {
    return client().request("PUT", "/jobs/" + id, body.dump(), {"Content-Type: application/json"});
  }
  /// PUT /jobs/{id} reading `key` under this test's prefix into `source`; 200 or 201.
  void put_job(const std::string& id, const std::string& source, const std::string& key) {
    const auto r = put_job(id, nlohmann::json{{"source", source}, {"uri", uri(key)}});
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }
  /// POST /jobs/{id}/run?wait=true (plus `flags`, e.g. "&force=true"), expecting 200: the run.
  nlohmann::json run_and_wait(const std::string& job, const std::string& flags = "") {
    const auto r = client().request("POST", "/jobs/" + job + "/run?wait=true" + flags);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }

  /// Polls GET /runs/{id} until the run has finished (120 s at most): the run.
  nlohmann::json wait_run(const std::string& run_id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    nlohmann::json run;
    while (std::chrono::steady_clock::now() < deadline) {
      run = client().get("/runs/" + run_id).json();
      if (run["status"] != "queued" && run["status"] != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << run_id << " did not finish: " << run.dump();
    return run;
  }

  /// Runs `sql` on this test's database in its own committed transaction.
  pqxx::result query(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    auto r = tx.exec(sql);
    tx.commit();
    return r;
  }
  /// The first column of the first row of `sql`, as a number (e.g. a count).
  long count(const std::string& sql) { return query(sql)[0][0].as<long>(); }

  std::string name_;
  std::string dsn_;
  std::map<std::string, std::string> env_;
  std::string bucket_;
  std::string prefix_;
  TestS3 s3_;
  std::unique_ptr<RunningApp> app_;
};

}  // namespace catalog::testing
