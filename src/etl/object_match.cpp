#include "catalog/etl/object_match.hpp"

#include <algorithm>

namespace catalog::etl {

std::optional<ObjectRef> parse_object_uri(const std::string& uri) {
  if (uri.rfind("s3://", 0) != 0) return std::nullopt;
  const auto rest = uri.substr(5);
  const auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() || rest.back() == '/') return std::nullopt;
  return ObjectRef{rest.substr(0, slash), rest.substr(slash + 1)};
}

bool job_takes_object(const std::string& job_uri, const std::string& raw_bucket, const ObjectRef& object) {
  std::string bucket, key;
  if (job_uri.rfind("s3://", 0) == 0) {
    const auto rest = job_uri.substr(5);
    const auto slash = rest.find('/');
    bucket = rest.substr(0, slash);
    key = slash == std::string::npos ? "" : rest.substr(slash + 1);
  } else {
    bucket = raw_bucket;
    key = job_uri;
  }
  if (bucket.empty() || bucket != object.bucket) return false;
  if (key.empty() || key.back() == '/') return object.key.size() > key.size() && object.key.compare(0, key.size(), key) == 0;
  return object.key == key;
}

std::vector<db::Job> jobs_for_object(const std::vector<db::Job>& jobs, const std::string& raw_bucket,
                                     const ObjectRef& object) {
  std::vector<db::Job> out;
  for (const auto& job : jobs) {
    if (job_takes_object(job.uri, raw_bucket, object)) out.push_back(job);
  }
  std::sort(out.begin(), out.end(), [](const db::Job& a, const db::Job& b) { return a.id < b.id; });
  return out;
}

}  // namespace catalog::etl
