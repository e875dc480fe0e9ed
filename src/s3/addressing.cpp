#include "s3/addressing.hpp"

#include "catalog/s3/bucket_name.hpp"
#include "catalog/s3/sigv4.hpp"
#include "s3/curl_transfer.hpp"

// Addressing: https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html

namespace catalog::s3::detail {

Endpoint parse_endpoint(const std::string& url) {
  Endpoint e;
  const auto sep = url.find("://");
  if (sep == std::string::npos) throw ConfigError("S3_ENDPOINT must be a URL such as http://127.0.0.1:9000");
  e.scheme = lower(url.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") throw ConfigError("S3_ENDPOINT must use http or https");
  std::string rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  e.host = rest.substr(0, slash);
  if (slash != std::string::npos) {
    e.base_path = rest.substr(slash);
    while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  }
  if (e.host.empty()) throw ConfigError("S3_ENDPOINT has no host");
  return e;
}

Addressing::Addressing(const S3Config& config) : region_(config.region) {
  if (!config.endpoint.empty()) {
    endpoint_ = parse_endpoint(config.endpoint);
    custom_endpoint_ = true;
  } else {
    endpoint_.scheme = "https";
  }
  if (config.force_path_style.has_value()) {
    path_style_set_ = true;
    force_path_style_ = *config.force_path_style;
  }
}

bool Addressing::path_style(const std::string& bucket) const {
  if (bucket.find('.') != std::string::npos) return true;
  return path_style_set_ ? force_path_style_ : custom_endpoint_;
}

Target Addressing::target(const std::string& bucket, const std::string& key, bool object_level) const {
  const std::string encoded_key = object_level ? uri_encode(key, true) : std::string();
  if (path_style(bucket)) {
    Target t{custom_endpoint_ ? endpoint_.host : "s3." + region_ + ".amazonaws.com",
             endpoint_.base_path + "/" + uri_encode(bucket, false)};
    if (object_level) t.path += "/" + encoded_key;
    return t;
  }
  // The bucket becomes part of the host: never let it name another one
  // (job uris are checked on PUT /jobs too; this is the last line).
  if (const auto problem = bucket_name_problem(bucket); !problem.empty()) {
    throw BadRequest("invalid S3 bucket name '" + bucket.substr(0, 80) + "': " + problem);
  }
  // Virtual-hosted: the canonical URI is the key alone ("/" for the bucket),
  // and the signed Host carries the bucket.
  return Target{custom_endpoint_ ? bucket + "." + endpoint_.host : bucket + ".s3." + region_ + ".amazonaws.com",
                endpoint_.base_path + "/" + encoded_key};
}

}  // namespace catalog::s3::detail
