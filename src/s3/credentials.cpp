#include "catalog/s3/credentials.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "catalog/core/errors.hpp"
#include "catalog/log/logging.hpp"
#include "s3/curl_util.hpp"

// Credential sources as the AWS SDKs define them:
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
// https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html

namespace catalog::s3 {
namespace {

constexpr std::string_view kModule = "s3";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::optional<std::string> non_empty(const EnvLookup& env, const char* name) {
  auto v = env(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

// Parses the JSON document ECS and IMDS both return.
Credentials credentials_from_json(const std::string& body, const std::string& source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body);
  } catch (const std::exception&) {
    throw UpstreamError("credentials from " + source + ": response is not JSON");
  }
  auto str = [&](const char* name) -> std::string {
    auto it = doc.find(name);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = Secret(str("SecretAccessKey"));
  c.session_token = Secret(str("Token"));
  c.source = source;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    throw UpstreamError("credentials from " + source + ": AccessKeyId or SecretAccessKey missing");
  }
  if (const std::string exp = str("Expiration"); !exp.empty()) {
    try {
      c.expiration = parse_iso8601_utc(exp);
    } catch (const std::exception&) {
      throw UpstreamError("credentials from " + source + ": malformed Expiration '" + exp + "'");
    }
  }
  return c;
}

class EnvironmentSource final : public CredentialsSource {
 public:
  explicit EnvironmentSource(EnvLookup env) : env_(std::move(env)) {}
  std::string name() const override { return "environment"; }
  std::optional<Credentials> fetch() override {
    auto key = non_empty(env_, "AWS_ACCESS_KEY_ID");
    auto secret = non_empty(env_, "AWS_SECRET_ACCESS_KEY");
    if (!key && !secret) return std::nullopt;
    if (!key || !secret) {
      throw UpstreamError(std::string("credentials from environment: ") +
                          (key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is not set");
    }
    Credentials c;
    c.access_key_id = *key;
    c.secret_access_key = Secret(*secret);
    if (auto token = non_empty(env_, "AWS_SESSION_TOKEN")) c.session_token = Secret(*token);
    c.source = "environment";
    return c;
  }

 private:
  EnvLookup env_;
};

bool allowed_full_uri(const std::string& uri) {
  // The SDKs accept https anywhere, and plain http only to loopback or the
  // ECS/EKS link-local agents.
  if (uri.rfind("https://", 0) == 0) return true;
  if (uri.rfind("http://", 0) != 0) return false;
  std::string host = uri.substr(7);
  host = host.substr(0, host.find('/'));
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

class ContainerSource final : public CredentialsSource {
 public:
  explicit ContainerSource(EnvLookup env) : env_(std::move(env)) {}
  std::string name() const override { return "ecs"; }
  std::optional<Credentials> fetch() override {
    std::string url;
    if (auto rel = non_empty(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      url = "http://169.254.170.2" + *rel;
    } else if (auto full = non_empty(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      if (!allowed_full_uri(*full)) {
        throw UpstreamError(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or ECS/EKS agent address");
      }
      url = *full;
    } else {
      return std::nullopt;
    }
    std::vector<std::string> headers;
    std::string token;
    if (auto file = non_empty(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      // Re-read every time: the agent rotates it.
      std::ifstream in(*file);
      if (!in) throw UpstreamError("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read");
      std::ostringstream ss;
      ss << in.rdbuf();
      token = trim(ss.str());
    } else if (auto t = non_empty(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
      token = trim(*t);
    }
    if (token.find_first_of("\r\n") != std::string::npos) {
      throw UpstreamError("container authorization token contains a line break");
    }
    if (!token.empty()) headers.push_back("Authorization: " + token);
    headers.push_back("Accept: application/json");

    // The agent can be slow to answer right after the task starts: a few quick tries.
    std::string last_error;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      try {
        const auto resp = detail::simple_http("GET", url, headers, {}, 2000);
        if (resp.status == 200) return credentials_from_json(resp.body, "ecs");
        last_error = "HTTP " + std::to_string(resp.status);
        if (resp.status >= 400 && resp.status < 500 && resp.status != 429) break;
      } catch (const UpstreamError&) {
        throw;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    }
    // The URL carries no secret (the token is a header), so it may be shown.
    throw UpstreamError("credentials from ECS container endpoint " + url + ": " + last_error);
  }

 private:
  EnvLookup env_;
};

class ProfileSource final : public CredentialsSource {
 public:
  explicit ProfileSource(EnvLookup env) : env_(std::move(env)) {}
  std::string name() const override { return "profile"; }
  std::optional<Credentials> fetch() override {
    std::string path;
    if (auto p = non_empty(env_, "AWS_SHARED_CREDENTIALS_FILE")) {
      path = *p;
    } else if (auto home = non_empty(env_, "HOME")) {
      path = *home + "/.aws/credentials";
    } else {
      return std::nullopt;
    }
    const auto explicit_profile = non_empty(env_, "AWS_PROFILE");
    const std::string profile = explicit_profile ? *explicit_profile : "default";
    std::ifstream in(path);
    if (!in) {
      if (explicit_profile) throw UpstreamError("AWS_PROFILE=" + profile + " but " + path + " cannot be read");
      return std::nullopt;
    }
    std::string line, section;
    bool found = false;
    Credentials c;
    c.source = "profile";
    std::string secret, token;
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[' && line.back() == ']') {
        section = trim(line.substr(1, line.size() - 2));
        if (section.rfind("profile ", 0) == 0) section = trim(section.substr(8));
        continue;
      }
      if (section != profile) continue;
      found = true;
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = trim(line.substr(0, eq));
      const std::string v = trim(line.substr(eq + 1));
      if (k == "aws_access_key_id") c.access_key_id = v;
      else if (k == "aws_secret_access_key") secret = v;
      else if (k == "aws_session_token") token = v;
    }
    if (!found) {
      if (explicit_profile) throw UpstreamError("AWS_PROFILE=" + profile + " is not in " + path);
      return std::nullopt;
    }
    if (c.access_key_id.empty() || secret.empty()) {
      throw UpstreamError("profile " + profile + " in " + path +
                          " lacks aws_access_key_id or aws_secret_access_key");
    }
    c.secret_access_key = Secret(secret);
    c.session_token = Secret(token);
    return c;
  }

 private:
  EnvLookup env_;
};

class ImdsSource final : public CredentialsSource {
 public:
  explicit ImdsSource(EnvLookup env) : env_(std::move(env)) {}
  std::string name() const override { return "imds"; }
  std::optional<Credentials> fetch() override {
    if (auto disabled = env_("AWS_EC2_METADATA_DISABLED"); disabled && (*disabled == "true" || *disabled == "1")) {
      return std::nullopt;
    }
    std::string base = "http://169.254.169.254";
    if (auto e = non_empty(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) base = *e;
    while (!base.empty() && base.back() == '/') base.pop_back();
    detail::SimpleResponse token;
    try {
      token = detail::simple_http("PUT", base + "/latest/api/token",
                                  {"X-aws-ec2-metadata-token-ttl-seconds: 21600"}, {}, 1000);
    } catch (const std::exception&) {
      return std::nullopt;  // no metadata service: not on EC2
    }
    if (token.status != 200 || token.body.empty()) return std::nullopt;
    const std::string auth = "X-aws-ec2-metadata-token: " + trim(token.body);
    const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
    try {
      const auto roles = detail::simple_http("GET", roles_url, {auth}, {}, 2000);
      if (roles.status == 404) return std::nullopt;  // no instance profile
      if (roles.status != 200) throw UpstreamError("credentials from IMDS: HTTP " + std::to_string(roles.status));
      const std::string role = trim(roles.body.substr(0, roles.body.find('\n')));
      const auto creds = detail::simple_http("GET", roles_url + role, {auth}, {}, 2000);
      if (creds.status != 200) throw UpstreamError("credentials from IMDS: HTTP " + std::to_string(creds.status));
      return credentials_from_json(creds.body, "imds");
    } catch (const UpstreamError&) {
      throw;
    } catch (const std::exception& e) {
      throw UpstreamError(std::string("credentials from IMDS: ") + e.what());
    }
  }

 private:
  EnvLookup env_;
};

}  // namespace

std::unique_ptr<CredentialsSource> make_environment_source(EnvLookup env) {
  return std::make_unique<EnvironmentSource>(std::move(env));
}
std::unique_ptr<CredentialsSource> make_container_source(EnvLookup env) {
  return std::make_unique<ContainerSource>(std::move(env));
}
std::unique_ptr<CredentialsSource> make_profile_source(EnvLookup env) {
  return std::make_unique<ProfileSource>(std::move(env));
}
std::unique_ptr<CredentialsSource> make_imds_source(EnvLookup env) {
  return std::make_unique<ImdsSource>(std::move(env));
}

std::chrono::system_clock::time_point parse_iso8601_utc(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) throw std::invalid_argument("not an ISO 8601 time: " + text);
  std::string rest;
  std::getline(in, rest);
  // Optional fraction, then Z or +00:00.
  std::size_t i = 0;
  if (i < rest.size() && rest[i] == '.') {
    ++i;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
  }
  const std::string zone = rest.substr(i);
  if (zone != "Z" && zone != "+00:00" && zone != "UTC") throw std::invalid_argument("not a UTC time: " + text);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

CredentialsChain::CredentialsChain(std::vector<std::unique_ptr<CredentialsSource>> sources, const Clock& clock,
                                   CachingOptions options)
    : sources_(std::move(sources)), clock_(clock), options_(options) {}

bool CredentialsChain::fresh_locked() const {
  if (!cached_) return false;
  if (!cached_->expiration) return true;
  return clock_.now() + options_.refresh_before_expiry < *cached_->expiration;
}

void CredentialsChain::invalidate() {
  std::lock_guard<std::mutex> lock(mutex_);
  cached_.reset();
}

Credentials CredentialsChain::get() {
  // One fetch at a time: callers that arrive during a refresh wait and reuse it.
  std::lock_guard<std::mutex> lock(mutex_);
  if (fresh_locked()) return *cached_;
  std::vector<std::string> tried;
  try {
    for (auto& source : sources_) {
      tried.push_back(source->name());
      if (auto c = source->fetch()) {
        nlohmann::json fields = {{"source", c->source}};
        if (c->expiration) {
          fields["expires_in_s"] =
              std::chrono::duration_cast<std::chrono::seconds>(*c->expiration - clock_.now()).count();
        }
        log::info(kModule, "AWS credentials loaded", fields);
        cached_ = std::move(c);
        return *cached_;
      }
    }
  } catch (const std::exception& e) {
    // Still-valid credentials beat none while the source is briefly down.
    if (cached_ && cached_->expiration && clock_.now() < *cached_->expiration) {
      log::warn(kModule, "credentials refresh failed; using cached credentials until they expire",
                {{"error", e.what()}});
      return *cached_;
    }
    throw UpstreamError(std::string("no AWS credentials: ") + e.what());
  }
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
  throw UpstreamError("no AWS credentials found (tried " + list + ")");
}

std::unique_ptr<CredentialsChain> default_credentials_chain(EnvLookup env, const Clock& clock,
                                                            CachingOptions options) {
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(make_environment_source(env));
  sources.push_back(make_container_source(env));
  sources.push_back(make_profile_source(env));
  sources.push_back(make_imds_source(env));
  return std::make_unique<CredentialsChain>(std::move(sources), clock, options);
}

}  // namespace catalog::s3
