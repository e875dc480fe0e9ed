#include "catalog/s3/s3_client.hpp"

#include "s3/addressing.hpp"
#include "s3/curl_transfer.hpp"
#include "s3/s3_xml.hpp"

// The S3 settings from the environment (docs/runbook.md lists them) and
// s3:// URIs: what the client is told, before any request is made.

namespace catalog::s3 {

using detail::lower;
using detail::parse_endpoint;

S3Uri S3Uri::parse(const std::string& uri) {
  if (uri.rfind("s3://", 0) != 0) throw BadRequest("not an s3:// URI: '" + uri + "'");
  const std::string rest = uri.substr(5);
  const auto slash = rest.find('/');
  S3Uri out;
  out.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) out.key = rest.substr(slash + 1);
  if (out.bucket.empty()) throw BadRequest("s3 URI has no bucket: '" + uri + "'");
  return out;
}

S3Config s3_config_from_env(const EnvLookup& env) {
  S3Config c;
  if (auto r = env("AWS_REGION"); r && !r->empty()) {
    c.region = *r;
  } else if (auto d = env("AWS_DEFAULT_REGION"); d && !d->empty()) {
    c.region = *d;
  }
  if (auto e = env("S3_ENDPOINT"); e && !e->empty()) {
    c.endpoint = *e;
    try {
      parse_endpoint(c.endpoint);
    } catch (const ConfigError& err) {
      throw ConfigError(std::string("S3_ENDPOINT: ") + err.what());
    }
  }
  if (auto t = env("S3_OBJECT_TIMEOUT"); t && !t->empty()) {
    const auto seconds = xml::parse_u64(*t);
    if (seconds == 0 || seconds > 7 * 24 * 3600) {
      throw ConfigError("S3_OBJECT_TIMEOUT must be a number of seconds from 1 to 604800, got '" + t->substr(0, 40) + "'");
    }
    c.object_timeout = std::chrono::seconds(seconds);
  }
  if (auto f = env("S3_FORCE_PATH_STYLE"); f && !f->empty()) {
    const std::string v = lower(*f);
    if (v == "1" || v == "true" || v == "yes") {
      c.force_path_style = true;
    } else if (v == "0" || v == "false" || v == "no") {
      c.force_path_style = false;
    } else {
      throw ConfigError("S3_FORCE_PATH_STYLE must be true or false, got '" + f->substr(0, 40) + "'");
    }
  }
  if (c.force_path_style == false && !c.endpoint.empty()) {
    // Virtual-hosted addressing puts the bucket in front of the host name:
    // an IP address has no subdomains to put it in.
    const std::string host = parse_endpoint(c.endpoint).host;
    const std::string name = host.front() == '[' ? host : host.substr(0, host.rfind(':'));
    if (name.front() == '[' || name.find_first_not_of("0123456789.") == std::string::npos) {
      throw ConfigError("S3_FORCE_PATH_STYLE=false puts the bucket in the host name (BUCKET." + host +
                        "), which needs an S3_ENDPOINT with a host name, not an IP address");
    }
  }
  return c;
}

}  // namespace catalog::s3
