#pragma once

// Authentication and authorization of a request, the one place both are
// decided (DESIGN.md "Auth"): who the token names, and whether that caller
// may use the matched route.

#include <optional>
#include <string_view>

#include "catalog/auth/principal.hpp"
#include "catalog/core/secret.hpp"
#include "catalog/http/message.hpp"

namespace catalog::auth {
class Authenticator;
}

namespace catalog::http {

/// What a route needs from the caller's key. Carried by the route table and
/// enforced by the Dispatcher; only routes whose job is known after a
/// look-up (`job_lookup`) leave the job check to their handler
/// (auth::require_follow).
enum class Access {
  by_method,    ///< GET: read, others: admin
  public_read,  ///< GET/HEAD need no key at all (items, products, health, docs)
  admin,        ///< scope admin only, even for GET (GET /keys)
  feed_upload,  ///< admin or feeds:<?job=> (POST /feeds)
  job_runs,     ///< admin, read or feeds:<{id}> (GET /jobs/{id}/runs)
  job_lookup,   ///< admin, read or any feeds: scope; the handler checks the looked-up job or narrows its list
  job_trigger,  ///< admin; feeds:<{id}> too for `?dry_run=true` (POST /jobs/{id}/run: a partner previews its feed)
};

/// How far authenticate() may go to settle an api_keys token.
enum class KeyLookup {
  may_block,    ///< ask the key store, which may query PostgreSQL (worker threads)
  cached_only,  ///< only what the store holds fresh (the I/O thread): nullopt otherwise
  remembered,   ///< any key the store remembers as valid, fresh or not: who the caller
                ///< is for the admission shares, never what it may do
};

/// The caller named by the request's token (`Authorization: Bearer <t>`, else
/// `X-API-Key`): the bootstrap key `api_token`, else a key of `keys` (null:
/// API_TOKEN only). nullopt: no valid key (401), or with cached_only also
/// "not settled without a look-up".
std::optional<auth::Principal> authenticate(const Request& request, const Secret& api_token,
                                            auth::Authenticator* keys, KeyLookup lookup);

/// Throws Forbidden naming the scope needed unless `who` may use a route of
/// kind `access` (`request.params` already hold the route's parameters).
void authorize(Access access, const auth::Principal& who, const Request& request);

/// Constant-time comparison of a presented token with the configured one.
bool token_matches(std::string_view presented, const Secret& expected);

}  // namespace catalog::http
