#pragma once
// TLS to PostgreSQL verified against a CA bundle given as text
// (DB_SSL_ROOT_CERT_PEM), so the image needs no CA file of its own: the
// deployment passes the RDS regional bundle and every libpq connection of the
// process checks the server's certificate and host name.

#include <string>

namespace catalog::db {

/// Writes `pem` to a private file under $TMPDIR (else /tmp) and points libpq
/// at it: PGSSLROOTCERT, and PGSSLMODE=verify-full unless PGSSLMODE is set.
/// Call before any thread starts (it sets environment variables). The file's
/// name follows from the content, so a process started again reuses it.
/// Returns the file's path; throws ConfigError naming DB_SSL_ROOT_CERT_PEM if
/// it cannot be written.
std::string use_root_cert(const std::string& pem);

}  // namespace catalog::db
