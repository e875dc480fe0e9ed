#pragma once

#include <string>

struct sockaddr;

namespace catalog::notify {

/// Which webhook targets this process may call (NOTIFY_ALLOW_HTTP,
/// NOTIFY_ALLOW_PRIVATE; docs/runbook.md "Notifications").
struct UrlPolicy {
  bool allow_http = false;     ///< plain http:// (local use only)
  bool allow_private = false;  ///< loopback and private ranges (local use and tests)
};

/// Checks a notification URL: http(s) scheme as the policy allows, a host,
/// no userinfo, no fragment, at most 2048 bytes, and a literal IP address
/// that the policy allows (never link-local: 169.254.0.0/16 holds the
/// instance and task metadata endpoints). Throws ValidationError(field, …).
void validate_url(const std::string& url, const UrlPolicy& policy, const std::string& field);

/// Whether a connection to `address` (the resolved peer) is allowed: the same
/// address rules as validate_url, applied at connect time so a host name that
/// resolves to a metadata or private address is refused too.
bool address_allowed(const struct sockaddr* address, const UrlPolicy& policy);

}  // namespace catalog::notify
