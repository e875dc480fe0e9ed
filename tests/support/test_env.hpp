#pragma once

// Endpoints of the real services that scripts/test.sh starts for integration
// tests. A missing variable is a test failure, never a silent skip.

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

namespace catalog::testing {

/// Reads a required environment variable or throws naming it.
inline std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set: run the tests through scripts/test.sh");
  }
  return value;
}

/// Admin DSN of the throw-away PostgreSQL (superuser, database `postgres`).
inline std::string admin_dsn() { return required_env("CATALOG_TEST_PG_DSN"); }

/// Creates a fresh, empty database owned by this test and returns its DSN.
/// Each test gets its own database so tests can run in parallel.
std::string create_test_database(const std::string& prefix = "t");

}  // namespace catalog::testing

namespace catalog::testing {

/// The S3-compatible server (behind the signature-verifying proxy) from
/// scripts/lib/s3.sh, as the service's own environment variables.
inline std::map<std::string, std::string> s3_env() {
  return {{"S3_ENDPOINT", required_env("CATALOG_TEST_S3_ENDPOINT")},
          {"S3_FORCE_PATH_STYLE", "true"},
          {"AWS_REGION", required_env("CATALOG_TEST_S3_REGION")},
          {"AWS_ACCESS_KEY_ID", required_env("CATALOG_TEST_S3_ACCESS_KEY_ID")},
          {"AWS_SECRET_ACCESS_KEY", required_env("CATALOG_TEST_S3_SECRET_ACCESS_KEY")},
          {"S3_RAW_BUCKET", required_env("CATALOG_TEST_S3_BUCKET")}};
}

}  // namespace catalog::testing

namespace catalog::testing {

/// create_test_database, then the service's migrations applied to it.
std::string create_migrated_database(const std::string& prefix);

}  // namespace catalog::testing
