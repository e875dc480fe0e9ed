// TLS to PostgreSQL verified as on AWS: DB_SSL_ROOT_CERT_PEM carries the CA
// bundle as text (the RDS bundle there), and the binary's connections check
// the server's certificate and host name (verify-full). Against a cluster of
// scripts/test.sh that serves a certificate for "localhost" only, signed by a
// throw-away CA.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/process.hpp"
#include "support/scratch.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

const std::string kBinary = CATALOG_API_BINARY;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// `catalog-api migrate` against the TLS cluster, its CA given as text.
std::pair<int, std::string> migrate(const std::string& dsn, const std::string& ca_pem, const std::string& tmpdir,
                                    std::map<std::string, std::string> extra = {}) {
  extra["DATABASE_URL"] = dsn;
  extra["DB_SSL_ROOT_CERT_PEM"] = ca_pem;
  extra["TMPDIR"] = tmpdir;
  return run_process({kBinary, "migrate"}, extra);
}

TEST(DbTlsTest, TheGivenCaBundleVerifiesTheServerAndIsKeptInAPrivateFile) {
  const auto tmpdir = make_temp_dir("db-tls");
  const auto [code, out] = migrate(required_env("CATALOG_TEST_PG_TLS_DSN"),
                                   read_file(required_env("CATALOG_TEST_PG_TLS_CA")), tmpdir);
  EXPECT_EQ(code, 0) << out;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tmpdir)) {
    ++files;
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << entry.path() << ": the bundle is the process's own";
    EXPECT_EQ(read_file(entry.path()), read_file(required_env("CATALOG_TEST_PG_TLS_CA")));
  }
  EXPECT_EQ(files, 1u) << "one bundle file, no temporary left behind";
  // Started again (a task restarts, run-job after serve): the same file, not another.
  EXPECT_EQ(migrate(required_env("CATALOG_TEST_PG_TLS_DSN"), read_file(required_env("CATALOG_TEST_PG_TLS_CA")),
                    tmpdir).first, 0);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmpdir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(tmpdir);
}

TEST(DbTlsTest, ACertificateFromAnotherCaOrForAnotherHostIsRefused) {
  const auto tmpdir = make_temp_dir("db-tls");
  // The server's certificate is not signed by the CA we were given.
  auto [code, out] = migrate(required_env("CATALOG_TEST_PG_TLS_DSN"),
                             read_file(required_env("CATALOG_TEST_PG_TLS_OTHER_CA")), tmpdir);
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("certificate verify failed"), std::string::npos) << out;
  // Signed by the right CA, but for "localhost": reached as 127.0.0.1 it is
  // someone else's certificate (verify-full checks the name, verify-ca would not).
  std::string by_address = required_env("CATALOG_TEST_PG_TLS_DSN");
  by_address.replace(by_address.find("host=localhost hostaddr="), 24, "host=");
  std::tie(code, out) = migrate(by_address, read_file(required_env("CATALOG_TEST_PG_TLS_CA")), tmpdir);
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("does not match host name"), std::string::npos) << out;
  std::filesystem::remove_all(tmpdir);
}

TEST(DbTlsTest, ABundleThatIsNotPemOrAModeThatDoesNotVerifyStopsStartup) {
  const auto tmpdir = make_temp_dir("db-tls");
  const auto dsn = required_env("CATALOG_TEST_PG_TLS_DSN");
  auto [code, out] = migrate(dsn, "not a certificate", tmpdir);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("DB_SSL_ROOT_CERT_PEM: must hold PEM certificates"), std::string::npos) << out;

  const auto ca = read_file(required_env("CATALOG_TEST_PG_TLS_CA"));
  std::tie(code, out) = migrate(dsn, ca, tmpdir, {{"PGSSLMODE", "require"}});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("PGSSLMODE: 'require' does not verify"), std::string::npos) << out;

  std::tie(code, out) = migrate(dsn, ca, tmpdir, {{"PGSSLROOTCERT", "/etc/ssl/certs/ca-certificates.crt"}});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("not both"), std::string::npos) << out;

  std::tie(code, out) = migrate(dsn, ca, "/nonexistent/dir");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("DB_SSL_ROOT_CERT_PEM: cannot create a file in '/nonexistent/dir'"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::is_empty(tmpdir)) << "nothing written when the configuration is refused";
  std::filesystem::remove_all(tmpdir);
}

}  // namespace
}  // namespace catalog::testing
