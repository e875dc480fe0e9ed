// POST /feeds?job={id}: a partner CSV streamed from the client straight into
// S3 (never held whole in memory), recorded in `feeds` and queued as a run of
// its job on exactly that object. GET /feeds and GET /feeds/{feed_id}.
//
// The body is the raw file (text/csv, or application/gzip /
// application/octet-stream for .gz), or multipart/form-data whose `file` part
// is streamed the same way (a browser form or `curl -F file=@feed.csv`).
#include <cctype>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "catalog/auth/principal.hpp"
#include "catalog/core/errors.hpp"
#include "catalog/db/feeds_repository.hpp"
#include "catalog/db/jobs_repository.hpp"
#include "catalog/db/runs_repository.hpp"
#include "catalog/etl/job_runner.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/http_errors.hpp"
#include "catalog/http/multipart_reader.hpp"
#include "catalog/http/request_helpers.hpp"
#include "catalog/s3/object_store.hpp"

namespace catalog::handlers {
namespace {

constexpr std::size_t kDefaultListLimit = 50;
constexpr std::size_t kMaxFileNameBytes = 200;

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

/// SHA-256 over a stream, through OpenSSL EVP.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw Error("internal error", "EVP_DigestInit_ex failed");
  }
  void update(const char* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw Error("internal error", "EVP_DigestUpdate failed");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) throw Error("internal error", "EVP_DigestFinal_ex failed");
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

std::string new_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error("internal error", "RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[b[i] >> 4];
    id += kHex[b[i] & 15];
  }
  return id;
}

enum class BodyKind { csv, tsv, ndjson, xml, gzip, binary };

std::optional<BodyKind> body_kind_of(std::string_view media_type) {
  if (media_type == "text/csv") return BodyKind::csv;
  // The other feed formats (docs/formats.md): the default file name carries
  // the format, which the run takes from the object's name.
  if (media_type == "text/tab-separated-values") return BodyKind::tsv;
  if (media_type == "application/x-ndjson" || media_type == "application/jsonl") return BodyKind::ndjson;
  if (media_type == "application/xml" || media_type == "text/xml" || media_type == "application/rss+xml" ||
      media_type == "application/atom+xml") {
    return BodyKind::xml;
  }
  if (media_type == "application/gzip" || media_type == "application/x-gzip") return BodyKind::gzip;
  if (media_type == "application/octet-stream") return BodyKind::binary;
  return std::nullopt;
}

std::string media_type_of(const http::Request& request) {
  const auto header = request.header("Content-Type");
  return header ? lower(trim(header->substr(0, header->find(';')))) : std::string();
}

/// The object's file name: ?file_name=, else the name the client sent
/// (Content-Disposition of the body or of its multipart part), else a
/// default. Clients may send a path ("C:\\feeds\\a.csv"): only its last
/// component is kept. What is left must be a plain name, as it becomes part
/// of the S3 key: 422 otherwise.
std::string file_name_of(const http::Request& request, std::optional<std::string> sent_name, BodyKind kind) {
  std::optional<std::string> name = request.query_param("file_name");
  if (!name) name = std::move(sent_name);
  if (!name) {
    switch (kind) {
      case BodyKind::gzip: return "feed.csv.gz";
      case BodyKind::tsv: return "feed.tsv";
      case BodyKind::ndjson: return "feed.ndjson";
      case BodyKind::xml: return "feed.xml";
      default: return "feed.csv";
    }
  }
  const auto slash = name->find_last_of("/\\");
  if (slash != std::string::npos) name = name->substr(slash + 1);
  if (name->empty() || *name == "." || *name == "..") {
    throw ValidationError("file_name", "file name must not be empty, '.' or '..'");
  }
  if (name->size() > kMaxFileNameBytes) {
    throw ValidationError("file_name", "file name is longer than " + std::to_string(kMaxFileNameBytes) + " bytes");
  }
  if (name->find("..") != std::string::npos) throw ValidationError("file_name", "file name must not contain '..'");
  for (unsigned char c : *name) {
    if (c < 0x20 || c == 0x7f) throw ValidationError("file_name", "file name must not contain control characters");
  }
  return *name;
}

nlohmann::json to_json(const db::Feed& feed) {
  return {{"feed_id", feed.id},
          {"job_id", feed.job_id},
          {"uri", feed.uri},
          {"file_name", feed.file_name},
          {"bytes", feed.bytes},
          {"sha256", feed.sha256},
          {"uploaded_at", feed.uploaded_at},
          {"run_id", feed.run_id ? nlohmann::json(*feed.run_id) : nlohmann::json(nullptr)},
          {"run_status", feed.run_status ? nlohmann::json(*feed.run_status) : nlohmann::json(nullptr)},
          {"uploaded_by", feed.uploaded_by ? nlohmann::json(*feed.uploaded_by) : nlohmann::json(nullptr)}};
}

struct FeedDeps {
  db::FeedsRepository& feeds;
  db::JobsRepository& jobs;
  db::RunsRepository& runs;
  etl::JobRunner& runner;
  s3::ObjectStore& store;
  std::string raw_bucket;
};

http::Response upload(const FeedDeps& d, const http::Request& request) {
  // Everything that can be refused is checked before a byte of the body is
  // read: the server reads the body only when the handler asks for it.
  const auto media_type = media_type_of(request);
  const bool multipart = media_type == "multipart/form-data";
  auto kind = body_kind_of(media_type);
  if (!kind && !multipart) {
    throw http::UnsupportedMediaType(
        "Content-Type must be text/csv, text/tab-separated-values, application/x-ndjson, application/xml, "
        "application/gzip, application/octet-stream or multipart/form-data, got '" +
        (media_type.empty() ? std::string("none") : media_type.substr(0, 80)) + "'");
  }
  const auto job_id = request.query_param("job");
  if (!job_id || job_id->empty()) throw ValidationError("job", "query parameter job is required: POST /feeds?job={id}");
  const bool dry_run = http::flag_param(request, "dry_run");  // checked before the body is read
  if (d.raw_bucket.empty()) {
    throw ValidationError("job", "feed uploads need S3_RAW_BUCKET, which is not configured on this server");
  }
  const auto job = d.jobs.find(*job_id);
  if (!job) throw NotFound("job '" + *job_id + "' does not exist");
  const auto latest = d.runs.list_for_job(*job_id, 1);
  if (!latest.empty() && !latest.front().finished()) {
    throw Conflict("job '" + *job_id + "' already has a " + latest.front().status + " run " + latest.front().id);
  }

  std::size_t buffered_offset = 0;
  s3::ByteSource body = [&](char* buffer, std::size_t capacity) -> std::size_t {
    if (request.body_stream) return request.body_stream(buffer, capacity);
    // A buffered request (not through the streaming server path).
    const auto n = std::min(capacity, request.body.size() - buffered_offset);
    std::copy_n(request.body.data() + buffered_offset, n, buffer);
    buffered_offset += n;
    return n;
  };
  std::optional<std::string> sent_name;
  std::unique_ptr<http::MultipartReader> form;
  if (multipart) {
    // The file's name and type are in its part's headers, so the body is
    // read up to them before the S3 key can be chosen.
    form = std::make_unique<http::MultipartReader>(*request.header("Content-Type"), std::move(body));
    auto part = form->open("file");
    sent_name = std::move(part.file_name);
    kind = body_kind_of(part.content_type);
    if (!kind) kind = sent_name && sent_name->size() > 3 && lower(sent_name->substr(sent_name->size() - 3)) == ".gz"
                          ? BodyKind::gzip
                          : BodyKind::binary;
    body = [&form](char* buffer, std::size_t capacity) { return form->read(buffer, capacity); };
  } else if (auto disposition = request.header("Content-Disposition")) {
    sent_name = http::header_param(*disposition, "filename");
  }
  const auto file_name = file_name_of(request, std::move(sent_name), *kind);

  db::Feed feed;
  feed.id = new_uuid();
  feed.job_id = *job_id;
  feed.file_name = file_name;
  if (request.principal) feed.uploaded_by = request.principal->name;
  const std::string key = "raw/partners/" + job->source + "/feeds/" + feed.id + "/" + file_name;
  feed.uri = "s3://" + d.raw_bucket + "/" + key;

  Sha256 sha;
  std::int64_t bytes = 0;
  const s3::ByteSource source = [&](char* buffer, std::size_t capacity) -> std::size_t {
    const auto n = body(buffer, capacity);
    sha.update(buffer, n);
    bytes += static_cast<std::int64_t>(n);
    return n;
  };
  s3::PutOptions options;
  options.content_type = kind == BodyKind::csv      ? "text/csv"
                         : kind == BodyKind::tsv    ? "text/tab-separated-values"
                         : kind == BodyKind::ndjson ? "application/x-ndjson"
                         : kind == BodyKind::xml    ? "application/xml"
                         : kind == BodyKind::gzip   ? "application/gzip"
                                                    : "application/octet-stream";
  // Throws (and aborts a multipart upload) when the client breaks off: then
  // there is no feed row and no run.
  d.store.put_object_stream(d.raw_bucket, key, source, options);
  feed.bytes = bytes;
  feed.sha256 = sha.hex();

  feed = d.feeds.insert(feed);
  db::Run run;
  try {
    run = d.runs.enqueue(*job_id, false, feed.uri, std::nullopt, feed.uploaded_by, dry_run);
  } catch (const Conflict& e) {
    // A run was queued while we uploaded: the feed stays recorded (run_id
    // NULL) so it can be loaded later by pointing a run at its uri.
    throw Conflict("feed " + feed.id + " was stored at " + feed.uri + " but no run was queued: " + e.what());
  }
  d.runner.notify();
  d.feeds.set_run(feed.id, run.id);

  auto response = http::json_response(
      201, {{"feed_id", feed.id}, {"run_id", run.id}, {"uri", feed.uri}, {"bytes", feed.bytes}, {"sha256", feed.sha256},
            {"dry_run", dry_run}});
  response.set_header("Location", "/feeds/" + feed.id);
  return response;
}

}  // namespace

void add_feed_routes(http::Router& router, db::FeedsRepository& feeds, db::JobsRepository& jobs,
                     db::RunsRepository& runs, etl::JobRunner& runner, s3::ObjectStore& store,
                     const std::string& raw_bucket) {
  auto deps = std::make_shared<FeedDeps>(FeedDeps{feeds, jobs, runs, runner, store, raw_bucket});
  router.add("POST", "/feeds", http::Access::feed_upload, [deps](const http::Request& r) { return upload(*deps, r); });
  router.add("GET", "/feeds", http::Access::job_lookup, [&feeds](const http::Request& r) {
    const auto limit = http::limit_param(r, kDefaultListLimit, 1000);
    const auto job = r.query_param("job");
    const auth::Principal* who = r.principal ? &*r.principal : nullptr;
    std::vector<db::Feed> found;
    if (job) {
      auth::require_follow(who, *job);
      found = feeds.list(job, limit);
    } else if (who != nullptr && who->feeds_only()) {
      // A partner's key sees its own jobs' feeds only.
      found = feeds.list_for_jobs({who->feed_jobs.begin(), who->feed_jobs.end()}, limit);
    } else {
      found = feeds.list(std::nullopt, limit);
    }
    auto body = nlohmann::json::array();
    for (const auto& feed : found) body.push_back(to_json(feed));
    return http::json_response(200, body);
  });
  router.add("GET", "/feeds/{feed_id}", http::Access::job_lookup, [&feeds](const http::Request& r) {
    const auto& id = r.params.at("feed_id");
    http::require_uuid(id, "feed");
    auto feed = feeds.find(id);
    if (!feed) throw NotFound("feed '" + id + "' does not exist");
    auth::require_follow(r.principal ? &*r.principal : nullptr, feed->job_id);
    return http::json_response(200, to_json(*feed));
  });
}

}  // namespace catalog::handlers
