#include "catalog/http/request_auth.hpp"

#include <string>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "catalog/auth/key_store.hpp"
#include "catalog/core/errors.hpp"

namespace catalog::http {
namespace {

// The token a request presents: `Authorization: Bearer <t>`, else `X-API-Key`.
std::optional<std::string_view> presented_token(const Request& request) {
  if (auto auth = request.header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() && iequals(auth->substr(0, kBearer.size()), kBearer)) {
      return auth->substr(kBearer.size());
    }
    return std::nullopt;
  }
  return request.header("X-API-Key");
}

std::string clip(std::string_view text) { return std::string(text.substr(0, 80)); }

}  // namespace

bool token_matches(std::string_view presented, const Secret& expected) {
  // Compare digests, not the strings: equal length inputs for CRYPTO_memcmp,
  // and the time taken reveals neither the token nor its length.
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.reveal().data()), expected.reveal().size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

std::optional<auth::Principal> authenticate(const Request& request, const Secret& api_token,
                                            auth::Authenticator* keys, KeyLookup lookup) {
  const auto token = presented_token(request);
  if (!token) return std::nullopt;
  if (token_matches(*token, api_token)) return auth::Principal{"api_token", true, false, {}};
  if (keys == nullptr) return std::nullopt;
  switch (lookup) {
    case KeyLookup::may_block:
      return keys->authenticate(*token);
    case KeyLookup::cached_only:
      return keys->try_cached(*token);
    case KeyLookup::remembered:
      return keys->remembered(*token);
  }
  return std::nullopt;
}

void authorize(Access access, const auth::Principal& who, const Request& request) {
  if (who.admin) return;
  const bool read_method = request.method == "GET" || request.method == "HEAD";
  switch (access) {
    case Access::public_read:
      if (read_method) return;
      [[fallthrough]];
    case Access::by_method:
      if (read_method && who.read) return;
      throw Forbidden(request.method + " " + clip(request.path) + " needs scope '" +
                      (read_method ? "read" : "admin") + "'");
    case Access::admin:
      throw Forbidden(request.method + " " + clip(request.path) + " needs scope 'admin'");
    case Access::feed_upload: {
      const auto job = request.query_param("job");
      // Without ?job= a feeds: key gets the handler's 422 naming the parameter.
      if ((!job || job->empty()) && !who.feed_jobs.empty()) return;
      if (job && who.can_upload_to_job(*job)) return;
      throw Forbidden("uploading a feed needs scope 'admin' or 'feeds:" + clip(job.value_or("<job-id>")) + "'");
    }
    case Access::job_runs: {
      const auto& job = request.params.at("id");
      if (who.can_follow_job(job)) return;
      throw Forbidden("this needs scope 'read' or 'feeds:" + clip(job) + "'");
    }
    case Access::job_trigger: {
      const auto& job = request.params.at("id");
      const auto dry_run = request.query_param("dry_run");
      if (dry_run && (*dry_run == "true" || *dry_run == "1") && who.can_upload_to_job(job)) return;
      throw Forbidden(request.method + " " + clip(request.path) + " needs scope 'admin' (a dry run: 'admin' or 'feeds:" +
                      clip(job) + "')");
    }
    case Access::job_lookup:
      if (who.read || !who.feed_jobs.empty()) return;
      throw Forbidden("this needs scope 'read' or a 'feeds:<job-id>' scope");
  }
  throw Forbidden("this needs scope 'admin'");
}

}  // namespace catalog::http
