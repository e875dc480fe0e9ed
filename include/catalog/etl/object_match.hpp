#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/db/jobs_repository.hpp"

namespace catalog::etl {

/// An S3 object named by bucket and key.
struct ObjectRef {
  std::string bucket;
  std::string key;
  std::string uri() const { return "s3://" + bucket + "/" + key; }
};

/// Parses "s3://bucket/key" (a key, not a prefix); nullopt when it is not one.
std::optional<ObjectRef> parse_object_uri(const std::string& uri);

/// Whether a job's uri names `object` (the same key) or a prefix holding it
/// (a uri ending in '/'); a bare key is in `raw_bucket` (S3_RAW_BUCKET).
bool job_takes_object(const std::string& job_uri, const std::string& raw_bucket, const ObjectRef& object);

/// The jobs that take `object`, in id order.
std::vector<db::Job> jobs_for_object(const std::vector<db::Job>& jobs, const std::string& raw_bucket,
                                     const ObjectRef& object);

}  // namespace catalog::etl
