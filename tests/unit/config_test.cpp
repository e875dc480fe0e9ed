#include "catalog/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "catalog/core/errors.hpp"

namespace catalog::config {
namespace {

EnvLookup env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(const std::map<std::string, std::string>& values, Purpose purpose = Purpose::serve) {
  try {
    load(env(values), purpose);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigTest, DefaultsWithDatabaseUrlAndToken) {
  const auto c = load(env({{"DATABASE_URL", "postgresql://u:p@db:5432/catalog"}, {"API_TOKEN", "t"}}));
  EXPECT_EQ(c.port, 8000);
  EXPECT_EQ(c.db_pool_size, 10);
  EXPECT_EQ(c.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.shutdown_timeout.count(), 25);
  EXPECT_EQ(c.log_format, LogFormat::json);
  ASSERT_TRUE(c.api_token);
  EXPECT_EQ(c.api_token->reveal(), "t");
  EXPECT_FALSE(c.auth_disabled);
}

TEST(ConfigTest, ADatabaseCaBundleRefusesEveryModeThatWouldNotVerifyTheServer) {
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const auto c = load(env({{"DATABASE_URL", "host=db sslmode=verify-full password=pw-secret"},
                           {"DB_SSL_ROOT_CERT_PEM", pem}, {"AUTH_DISABLED", "1"}}));
  ASSERT_TRUE(c.db_root_cert_pem);
  EXPECT_EQ(*c.db_root_cert_pem, pem);
  EXPECT_FALSE(load(env({{"DATABASE_URL", "host=db"}, {"AUTH_DISABLED", "1"}})).db_root_cert_pem);

  // A sslmode inside a connection string wins over PGSSLMODE: a weak one is refused, the string never shown.
  std::string error = error_of({{"DATABASE_URL", "postgresql://u:pw-secret@db/catalog?sslmode=require"},
                                {"DB_SSL_ROOT_CERT_PEM", pem}, {"AUTH_DISABLED", "1"}});
  EXPECT_NE(error.find("DATABASE_URL: sslmode=require does not verify"), std::string::npos) << error;
  EXPECT_EQ(error.find("pw-secret"), std::string::npos) << error;
  error = error_of({{"DATABASE_URL", "host=db"}, {"DATABASE_READ_URL", "host=replica sslmode=prefer"},
                    {"DB_SSL_ROOT_CERT_PEM", pem}, {"AUTH_DISABLED", "1"}});
  EXPECT_NE(error.find("DATABASE_READ_URL: sslmode=prefer"), std::string::npos) << error;
  EXPECT_EQ(error_of({{"DATABASE_URL", "host=db sslmode=verify-ca"}, {"DB_SSL_ROOT_CERT_PEM", pem},
                      {"AUTH_DISABLED", "1"}}),
            "");
  error = error_of({{"DATABASE_URL", "host=db"}, {"PGSSLMODE", "prefer"}, {"DB_SSL_ROOT_CERT_PEM", pem},
                    {"AUTH_DISABLED", "1"}});
  EXPECT_NE(error.find("PGSSLMODE: 'prefer' does not verify"), std::string::npos) << error;
  // Without a bundle nothing changes: the operator's sslmode stands.
  EXPECT_EQ(error_of({{"DATABASE_URL", "host=db sslmode=require"}, {"AUTH_DISABLED", "1"}}), "");
}

TEST(ConfigTest, DbPartsBuildAQuotedConnectionString) {
  const auto c = load(env({{"DB_HOST", "db.internal"}, {"DB_NAME", "cat alog"}, {"DB_USER", "app"},
                           {"DB_PASSWORD", "it's\\secret"}, {"AUTH_DISABLED", "1"}}));
  EXPECT_EQ(c.database_dsn.reveal(),
            "host='db.internal' port=5432 dbname='cat alog' user='app' password='it\\'s\\\\secret'");
}

TEST(ConfigTest, DbPasswordFromAFileReachesTheConnectionStringAndItsErrorsNameTheVariable) {
  // As ECS or compose mounts it: one line with a trailing newline.
  const std::string path = ::testing::TempDir() + "/db-password";
  std::ofstream(path) << "it's-from\\file\n";
  const std::map<std::string, std::string> parts = {
      {"DB_HOST", "db.internal"}, {"DB_NAME", "catalog"}, {"DB_USER", "app"}, {"AUTH_DISABLED", "1"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(parts.begin(), parts.end());
    return extra;
  };
  const auto c = load(env(with({{"DB_PASSWORD_FILE", path}})));
  EXPECT_EQ(c.database_dsn.reveal(),
            "host='db.internal' port=5432 dbname='catalog' user='app' password='it\\'s-from\\\\file'");

  const auto both = error_of(with({{"DB_PASSWORD", "direct-pw"}, {"DB_PASSWORD_FILE", path}}));
  EXPECT_NE(both.find("DB_PASSWORD"), std::string::npos) << both;
  EXPECT_EQ(both.find("direct-pw"), std::string::npos) << both;
  EXPECT_EQ(both.find("from"), std::string::npos) << "the file's content is never shown: " << both;
  const auto missing = error_of(with({{"DB_PASSWORD_FILE", "/nonexistent/db-password"}}));
  EXPECT_NE(missing.find("DB_PASSWORD_FILE"), std::string::npos) << missing;
  const std::string empty = ::testing::TempDir() + "/db-password-empty";
  std::ofstream(empty) << "";
  const auto blank = error_of(with({{"DB_PASSWORD_FILE", empty}}));
  EXPECT_NE(blank.find("DB_PASSWORD_FILE"), std::string::npos) << blank;
  EXPECT_NE(blank.find("empty"), std::string::npos) << blank;
  std::remove(path.c_str());
  std::remove(empty.c_str());
}

TEST(ConfigTest, SecretsFromFiles) {
  const std::string path = ::testing::TempDir() + "/token";
  std::ofstream(path) << "from-file\n";
  const auto c = load(env({{"DATABASE_URL", "host=x"}, {"API_TOKEN_FILE", path}}));
  EXPECT_EQ(c.api_token->reveal(), "from-file");
  EXPECT_NE(error_of({{"DATABASE_URL", "host=x"}, {"API_TOKEN_FILE", "/nonexistent/t"}}).find("API_TOKEN_FILE"),
            std::string::npos);
  EXPECT_NE(error_of({{"DATABASE_URL", "host=x"}, {"API_TOKEN", "a"}, {"API_TOKEN_FILE", path}}).find("API_TOKEN"),
            std::string::npos);
  std::remove(path.c_str());
}

TEST(ConfigTest, EveryBadValueNamesItsVariable) {
  const std::map<std::string, std::string> ok = {{"DATABASE_URL", "host=x"}, {"AUTH_DISABLED", "1"}};
  auto with = [&](const std::string& k, const std::string& v) {
    auto m = ok;
    m[k] = v;
    return m;
  };
  EXPECT_EQ(error_of(ok), "");
  EXPECT_EQ(error_of(with("PORT", "eighty")).rfind("PORT:", 0), 0u);
  EXPECT_EQ(error_of(with("PORT", "70000")).rfind("PORT:", 0), 0u);
  EXPECT_EQ(error_of(with("DB_POOL_SIZE", "0")).rfind("DB_POOL_SIZE:", 0), 0u);
  EXPECT_EQ(error_of(with("MAX_BODY_BYTES", "-5")).rfind("MAX_BODY_BYTES:", 0), 0u);
  EXPECT_EQ(error_of(with("LOG_LEVEL", "loud")).rfind("LOG_LEVEL:", 0), 0u);
  EXPECT_EQ(error_of(with("LOG_FORMAT", "xml")).rfind("LOG_FORMAT:", 0), 0u);
  EXPECT_EQ(error_of(with("AUTH_DISABLED", "maybe")).rfind("AUTH_DISABLED:", 0), 0u);
  EXPECT_EQ(error_of(with("SHUTDOWN_TIMEOUT", "1h")).rfind("SHUTDOWN_TIMEOUT:", 0), 0u);
  EXPECT_EQ(error_of(with("S3_ENDPOINT", "localhost:9000")).rfind("S3_ENDPOINT:", 0), 0u);
  EXPECT_EQ(error_of(with("DATABASE_URL", "nonsense")).rfind("DATABASE_URL:", 0), 0u);
  EXPECT_EQ(error_of(with("S3_RAW_BUCKET", "Raw_Feeds")).rfind("S3_RAW_BUCKET:", 0), 0u);
  EXPECT_EQ(error_of(with("S3_RAW_BUCKET", "localhost:9444#")),
            "S3_RAW_BUCKET: 'localhost:9444#' is not a valid S3 bucket name: may contain only lower-case letters, "
            "digits, dots and hyphens");
  EXPECT_EQ(error_of(with("S3_RAW_BUCKET", "10.0.0.1")).rfind("S3_RAW_BUCKET:", 0), 0u);
  EXPECT_EQ(error_of(with("S3_RAW_BUCKET", "raw-feeds")), "");
  EXPECT_EQ(error_of({{"AUTH_DISABLED", "1"}}).rfind("DATABASE_URL:", 0), 0u);
  EXPECT_EQ(error_of({{"DB_HOST", "h"}, {"DB_USER", "u"}, {"AUTH_DISABLED", "1"}}).rfind("DB_NAME:", 0), 0u);
}

TEST(ConfigTest, ReadReplicaSettings) {
  const auto none = load(env({{"DATABASE_URL", "host=x"}, {"AUTH_DISABLED", "1"}}));
  EXPECT_FALSE(none.database_read_dsn);
  EXPECT_EQ(none.read_max_lag.count(), 5);
  const auto c = load(env({{"DATABASE_URL", "host=x"}, {"AUTH_DISABLED", "1"},
                           {"DATABASE_READ_URL", "postgresql://u:p@replica:5432/catalog"}, {"READ_MAX_LAG", "2"}}));
  ASSERT_TRUE(c.database_read_dsn);
  EXPECT_EQ(c.database_read_dsn->reveal(), "postgresql://u:p@replica:5432/catalog");
  EXPECT_EQ(c.read_max_lag.count(), 2);
  const std::map<std::string, std::string> ok = {{"DATABASE_URL", "host=x"}, {"AUTH_DISABLED", "1"}};
  auto with = [&](const std::string& k, const std::string& v) {
    auto m = ok;
    m[k] = v;
    return m;
  };
  EXPECT_EQ(error_of(with("DATABASE_READ_URL", "replica.internal")).rfind("DATABASE_READ_URL:", 0), 0u);
  EXPECT_EQ(error_of(with("READ_MAX_LAG", "0")).rfind("READ_MAX_LAG:", 0), 0u);
  EXPECT_EQ(error_of(with("READ_MAX_LAG", "5s")), "READ_MAX_LAG: must be an integer in 1..3600, got '5s'");
}

TEST(ConfigTest, NoTokenRefusesToServeUnlessAuthDisabled) {
  EXPECT_EQ(error_of({{"DATABASE_URL", "host=x"}}).rfind("API_TOKEN:", 0), 0u);
  EXPECT_EQ(error_of({{"DATABASE_URL", "host=x"}, {"AUTH_DISABLED", "0"}}).rfind("API_TOKEN:", 0), 0u);
  // migrate and run-job do not serve HTTP: no token needed.
  EXPECT_EQ(error_of({{"DATABASE_URL", "host=x"}}, Purpose::database_only), "");
}

TEST(ConfigTest, ErrorsNeverContainThePassword) {
  const auto message = error_of({{"DB_HOST", "h"}, {"DB_NAME", "n"}, {"DB_USER", "u"}, {"DB_PASSWORD", "hunter2"},
                                 {"DB_PORT", "x"}, {"AUTH_DISABLED", "1"}});
  EXPECT_EQ(message.rfind("DB_PORT:", 0), 0u);
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
}

TEST(ConfigTest, RegionFallsBackToAwsDefaultRegion) {
  EXPECT_EQ(load(env({{"DATABASE_URL", "host=x"}, {"AWS_DEFAULT_REGION", "eu-west-1"}}), Purpose::database_only).s3.region,
            "eu-west-1");
  EXPECT_EQ(load(env({{"DATABASE_URL", "host=x"}, {"AWS_REGION", "eu-central-1"}, {"AWS_DEFAULT_REGION", "eu-west-1"}}),
                 Purpose::database_only)
                .s3.region,
            "eu-central-1");
  const auto c = load(env({{"DATABASE_URL", "host=x"}, {"S3_ENDPOINT", "http://127.0.0.1:9000"}}), Purpose::database_only);
  EXPECT_EQ(c.s3.endpoint, "http://127.0.0.1:9000");
}

}  // namespace
}  // namespace catalog::config

namespace catalog::config {
namespace {

TEST(ConfigTest, DatabaseBoundsAndWaitTimeout) {
  const std::map<std::string, std::string> base = {{"DATABASE_URL", "postgresql://u:p@db/catalog"}, {"API_TOKEN", "t"}};
  auto c = load(env(base));
  EXPECT_EQ(c.db_statement_timeout.count(), 5000);
  EXPECT_EQ(c.db_acquire_timeout.count(), 1000);
  EXPECT_EQ(c.db_background_pool_size, 5) << "2 x JOB_WORKERS + 1";
  EXPECT_EQ(c.wait_timeout.count(), 50000);

  auto with = [&](std::map<std::string, std::string> extra) {
    for (const auto& kv : base) extra.insert(kv);
    return extra;
  };
  c = load(env(with({{"DB_STATEMENT_TIMEOUT", "250ms"}, {"WAIT_TIMEOUT", "10"}, {"JOB_WORKERS", "4"}})));
  EXPECT_EQ(c.db_statement_timeout.count(), 250);
  EXPECT_EQ(c.wait_timeout.count(), 10000) << "a bare number is seconds";
  EXPECT_EQ(c.db_background_pool_size, 9);
  c = load(env(with({{"DB_STATEMENT_TIMEOUT", "0"}, {"DB_BACKGROUND_POOL_SIZE", "3"}})));
  EXPECT_EQ(c.db_statement_timeout.count(), 0) << "0 = off";
  EXPECT_EQ(c.db_background_pool_size, 3);

  for (const auto& bad : {"5 s", "-1", "1h", "ms", "99999999999999"}) {
    const auto error = error_of(with({{"DB_STATEMENT_TIMEOUT", bad}}));
    EXPECT_EQ(error.rfind("DB_STATEMENT_TIMEOUT: ", 0), 0u) << bad << ": " << error;
  }
  EXPECT_EQ(error_of(with({{"WAIT_TIMEOUT", "16m"}})).rfind("WAIT_TIMEOUT: ", 0), 0u);
  EXPECT_EQ(error_of(with({{"DB_BACKGROUND_POOL_SIZE", "1"}})).rfind("DB_BACKGROUND_POOL_SIZE: ", 0), 0u);
}

}  // namespace
}  // namespace catalog::config

namespace catalog::config {
namespace {

TEST(ConfigTest, RunRetentionDaysDefaultsTo30AndIsValidated) {
  const std::map<std::string, std::string> base = {{"DATABASE_URL", "postgresql://u:p@db/catalog"}, {"API_TOKEN", "t"}};
  EXPECT_EQ(load(env(base)).run_retention_days, 30);
  auto with = [&](std::map<std::string, std::string> extra) {
    for (const auto& kv : base) extra.insert(kv);
    return extra;
  };
  EXPECT_EQ(load(env(with({{"RUN_RETENTION_DAYS", "7"}}))).run_retention_days, 7);
  for (const auto& bad : {"0", "-3", "30d", "x"}) {
    const auto error = error_of(with({{"RUN_RETENTION_DAYS", bad}}));
    EXPECT_EQ(error.rfind("RUN_RETENTION_DAYS: ", 0), 0u) << "'" << bad << "': " << error;
  }
}

TEST(ConfigTest, ResponseCacheBytesDefaultsTo64MiBAndZeroTurnsItOff) {
  const std::map<std::string, std::string> base = {{"DATABASE_URL", "postgresql://u:p@db/catalog"}, {"API_TOKEN", "t"}};
  EXPECT_EQ(load(env(base)).response_cache_bytes, std::size_t{64} << 20);
  auto with = [&](std::map<std::string, std::string> extra) {
    for (const auto& kv : base) extra.insert(kv);
    return extra;
  };
  EXPECT_EQ(load(env(with({{"RESPONSE_CACHE_BYTES", "0"}}))).response_cache_bytes, 0u);
  EXPECT_EQ(load(env(with({{"RESPONSE_CACHE_BYTES", "1048576"}}))).response_cache_bytes, 1048576u);
  for (const auto& bad : {"-1", "64MiB", "x"}) {
    const auto error = error_of(with({{"RESPONSE_CACHE_BYTES", bad}}));
    EXPECT_EQ(error.rfind("RESPONSE_CACHE_BYTES: ", 0), 0u) << "'" << bad << "': " << error;
  }
}

TEST(ConfigTest, ClientShareSlotsAndForwardedForTrustDefaultToHalfAndOff) {
  const std::map<std::string, std::string> base = {{"DATABASE_URL", "postgresql://u:p@db/catalog"}, {"API_TOKEN", "t"}};
  const auto defaults = load(env(base));
  EXPECT_EQ(defaults.admission_client_slots, 0u) << "0: half of each class's slots";
  EXPECT_FALSE(defaults.trust_forwarded_for) << "directly exposed, X-Forwarded-For is the client's own word";
  auto with = [&](std::map<std::string, std::string> extra) {
    for (const auto& kv : base) extra.insert(kv);
    return extra;
  };
  const auto set = load(env(with({{"ADMISSION_CLIENT_SLOTS", "3"}, {"TRUST_X_FORWARDED_FOR", "true"}})));
  EXPECT_EQ(set.admission_client_slots, 3u);
  EXPECT_TRUE(set.trust_forwarded_for);
  EXPECT_EQ(error_of(with({{"ADMISSION_CLIENT_SLOTS", "-1"}})).rfind("ADMISSION_CLIENT_SLOTS: ", 0), 0u);
  EXPECT_EQ(error_of(with({{"TRUST_X_FORWARDED_FOR", "maybe"}})).rfind("TRUST_X_FORWARDED_FOR: ", 0), 0u);
}

}  // namespace
}  // namespace catalog::config
