#pragma once
// S3 bucket naming rules (general purpose buckets), as AWS documents them:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
// In virtual-hosted style the bucket becomes part of the request's host, so a
// name outside these rules (a port, userinfo, '#', an IP literal) could send
// the request elsewhere: job uris, S3_RAW_BUCKET and the client all check it.

#include <string>
#include <string_view>

namespace catalog::s3 {

/// Empty when `name` is a valid bucket name; otherwise why it is not, e.g.
/// "must be 3 to 63 characters long" or "must not be an IP address".
/// Beyond AWS's "not formatted as an IP address", anything inet_aton() reads
/// as an IPv4 address (2130706433, 0x7f000001, 127.1) is refused too.
std::string bucket_name_problem(std::string_view name);

}  // namespace catalog::s3
