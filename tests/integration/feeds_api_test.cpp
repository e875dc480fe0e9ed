// POST /feeds as partners use it: a CSV streamed through the service into the
// real S3-compatible server, recorded in `feeds` and loaded by a run pinned to
// exactly that object; plus the limits and failures of the streaming path
// (413, 404, 409, 415, 401, a client that hangs up mid-upload), raw bodies
// and multipart/form-data forms alike.
#include <gtest/gtest.h>

#include <unistd.h>

#include <thread>

#include <pqxx/pqxx>

#include "s3/crypto.hpp"
#include "support/feed_builder.hpp"
#include "support/s3_app_test.hpp"
#include "support/timing.hpp"
#include "support/test_env.hpp"

namespace catalog::testing {
namespace {

std::vector<std::string> columns() {
  auto out = kPartnerColumns;
  out.push_back("color");
  return out;
}

std::vector<std::string> feed_row(int i) {
  return {"SKU-" + std::to_string(i), "Product " + std::to_string(i), "Line one, with comma", "Acme", "Tools",
          "$" + std::to_string(100 + i % 900) + ".50", "usd", "In Stock", "red"};
}

std::string feed_csv(int rows) { return FeedBuilder(columns()).rows(1, rows, feed_row); }

/// A feed of at least `bytes` bytes, in steps of 1000 rows; `*rows` is how many.
std::string feed_of_size(std::size_t bytes, int* rows) {
  FeedBuilder feed(columns());
  for (*rows = 0; feed.csv().size() < bytes; *rows += 1000) feed.rows(*rows + 1, *rows + 1000, feed_row);
  return feed;
}

class FeedsApiTest : public S3AppTest {
 protected:
  FeedsApiTest() : S3AppTest("feeds_api") {}
  void SetUp() override {
    S3AppTest::SetUp();
    std::string name = current_test_name();
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    source_ = "feeds-" + name + "-" + std::to_string(::getpid());
  }

  /// POST /feeds requests the server has finished with (answered or given
  /// up on), from /metrics: the proof that a handler had its chance to act.
  long feed_posts_finished() {
    const auto text = client().get("/metrics").body;
    const std::string prefix = "catalog_http_requests_total{route=\"/feeds\",method=\"POST\",";
    long total = 0;
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
      const auto space = text.find(' ', at);
      total += std::stol(text.substr(space + 1));
    }
    return total;
  }

  void create_job(const std::string& id) {
    const auto r = put_job(id, {{"source", source_}, {"uri", "s3://" + bucket_ + "/unused/" + id + ".csv"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  HttpResult upload(const std::string& target, const std::string& body, std::vector<std::string> headers = {}) {
    if (headers.empty()) headers.push_back("Content-Type: text/csv");
    return client().request("POST", target, body, std::move(headers));
  }

  std::string object_bytes(const std::string& uri) { return s3_.get_uri(uri); }

  std::size_t objects_of_source() { return s3_.client().list_objects(bucket_, "raw/partners/" + source_ + "/").size(); }

  std::string source_;
};

TEST_F(FeedsApiTest, UploadStoresTheObjectAndLoadsExactlyIt) {
  start();
  create_job("acme-feed");
  const auto csv = feed_csv(120);
  const auto r = upload("/feeds?job=acme-feed&file_name=daily.csv", csv);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto body = r.json();
  const std::string feed_id = body["feed_id"];
  EXPECT_EQ(r.header("location"), "/feeds/" + feed_id);
  EXPECT_EQ(body["bytes"], csv.size());
  EXPECT_EQ(body["sha256"], s3::crypto::sha256_hex(csv));
  EXPECT_EQ(body["uri"], "s3://" + bucket_ + "/raw/partners/" + source_ + "/feeds/" + feed_id + "/daily.csv");
  EXPECT_EQ(object_bytes(body["uri"]), csv);

  const auto run = wait_run(body["run_id"]);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["source"]["uri"], body["uri"]);
  EXPECT_EQ(run["counts"]["inserted"], 120);
  EXPECT_EQ(count("SELECT count(*) FROM products WHERE source = '" + source_ + "'"), 120);

  const auto one = client().get("/feeds/" + feed_id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json()["run_id"], body["run_id"]);
  EXPECT_EQ(one.json()["run_status"], "succeeded");
  EXPECT_EQ(one.json()["file_name"], "daily.csv");
  EXPECT_EQ(one.json()["sha256"], body["sha256"]);

  // A second upload (file name from Content-Disposition, path stripped) is listed first.
  const auto second = upload("/feeds?job=acme-feed", feed_csv(3),
                             {"Content-Type: text/csv; charset=utf-8",
                              "Content-Disposition: attachment; filename=\"C:\\\\feeds\\\\monday.csv\""});
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_NE(second.json()["uri"].get<std::string>().find("/monday.csv"), std::string::npos) << second.body;
  wait_run(second.json()["run_id"]);
  const auto list = client().get("/feeds?job=acme-feed").json();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["feed_id"], second.json()["feed_id"]) << "newest first";
  EXPECT_EQ(list[1]["run_status"], "succeeded");
  EXPECT_EQ(client().get("/feeds?limit=1").json().size(), 1u);
  EXPECT_EQ(client().get("/feeds?job=other").json().size(), 0u);
  EXPECT_EQ(client().get("/feeds/00000000-0000-4000-8000-000000000000").status, 404);
  EXPECT_EQ(client().get("/feeds/not-a-uuid").status, 400);
}

TEST_F(FeedsApiTest, MultiMegabyteFeedUsesMultipartAndKeepsEveryByte) {
  start();
  create_job("big-feed");
  int rows = 0;
  const std::string csv = feed_of_size(12u * 1024 * 1024, &rows);
  const auto r = upload("/feeds?job=big-feed", csv);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["bytes"], csv.size());
  EXPECT_EQ(r.json()["sha256"], s3::crypto::sha256_hex(csv));
  const auto stored = object_bytes(r.json()["uri"]);
  EXPECT_EQ(stored.size(), csv.size());
  EXPECT_TRUE(stored == csv);
  const auto run = wait_run(r.json()["run_id"]);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["counts"]["inserted"], rows);
}

std::string form_body(const std::string& boundary, const std::string& file_part_headers, const std::string& file) {
  return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nweekly drop\r\n"
         "--" + boundary + "\r\n" + file_part_headers + "\r\n\r\n" + file + "\r\n--" + boundary + "--\r\n";
}

TEST_F(FeedsApiTest, MultipartFormUploadStoresOnlyTheFilePart) {
  start();
  create_job("form-feed");
  const std::string boundary = "------------------------4ebf00fbcf09";
  const std::string type = "Content-Type: multipart/form-data; boundary=" + boundary;
  // Over one S3 part, so both kinds of multipart meet; CRLF rows, as browsers send.
  // Rows with CRLF endings and a quoted value holding a near-miss of the
  // boundary: only the real delimiter ends the part.
  int rows = 0;
  std::string csv = feed_of_size(9u * 1024 * 1024, &rows);
  std::string crlf;
  for (const char c : csv) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  csv.clear();
  for (std::size_t at = 0, hit; (hit = crlf.find("Line one,", at)) != std::string::npos; at = hit + 9) {
    csv += crlf.substr(at, hit - at) + "Line one\r\n--" + boundary.substr(0, 20);
  }
  csv += crlf.substr(crlf.rfind("Line one,") + 9);
  const auto r = upload("/feeds?job=form-feed",
                        form_body(boundary, "Content-Disposition: form-data; name=\"file\"; filename=\"weekly.csv\"\r\n"
                                            "Content-Type: text/csv", csv),
                        {type});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["bytes"], csv.size());
  EXPECT_EQ(r.json()["sha256"], s3::crypto::sha256_hex(csv));
  EXPECT_NE(r.json()["uri"].get<std::string>().find("/weekly.csv"), std::string::npos) << r.body;
  EXPECT_TRUE(object_bytes(r.json()["uri"]) == csv) << "the stored object is the file part, byte for byte";
  const auto run = wait_run(r.json()["run_id"]);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["counts"]["inserted"], rows);

  // A form without a `file` part, and one cut before its closing boundary:
  // clear errors, and nothing stored or queued.
  auto bad = upload("/feeds?job=form-feed",
                    form_body(boundary, "Content-Disposition: form-data; name=\"upload\"; filename=\"a.csv\"", "sku\n"),
                    {type});
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(bad.json()["error"]["field"], "file") << bad.body;
  const auto whole = form_body(boundary, "Content-Disposition: form-data; name=\"file\"; filename=\"cut.csv\"", feed_csv(50));
  bad = upload("/feeds?job=form-feed", whole.substr(0, whole.size() - 30), {type});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("closing boundary"), std::string::npos) << bad.body;
  bad = upload("/feeds?job=form-feed", whole, {"Content-Type: multipart/form-data"});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(count("SELECT count(*) FROM feeds"), 1);
  EXPECT_EQ(objects_of_source(), 1u);
}

TEST_F(FeedsApiTest, ExpectContinueIsAnsweredWhenTheHandlerWantsTheBody) {
  start();
  create_job("cont-feed");
  const auto csv = feed_csv(5);
  RawConnection conn(app_->port());
  conn.send("POST /feeds?job=cont-feed HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
            "Content-Length: " + std::to_string(csv.size()) + "\r\n\r\n");
  const auto cont = conn.read_response();
  ASSERT_EQ(status_of(cont), 100) << cont;
  conn.send(csv);
  const auto raw = conn.read_response(20000);
  ASSERT_EQ(status_of(raw), 201) << raw;
  EXPECT_EQ(nlohmann::json::parse(body_of(raw))["sha256"], s3::crypto::sha256_hex(csv));

  // The connection stays usable after a fully read streamed body.
  conn.send("GET /feeds HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(conn.read_response()), 200);
}

// One partner key cannot hold every upload slot (issue 21): 12 silent uploads
// from one feeds:<job> key used to take every worker. With UPLOAD_WORKERS=2
// a key holds at most one (half the slots): its next upload is refused at
// once, counted as `client_share`, while another partner's upload takes the
// free slot and lands.
TEST_F(FeedsApiTest, OnePartnerKeyHoldsAtMostItsShareOfUploadSlots) {
  const std::string admin = "Authorization: Bearer share-test-bootstrap-token";
  start({{"AUTH_DISABLED", "0"}, {"API_TOKEN", "share-test-bootstrap-token"}, {"UPLOAD_WORKERS", "2"},
         {"ADMISSION_MAX_WAIT_MS", "20000"}});
  std::map<std::string, std::string> key_of;
  for (const std::string job : {"share-a", "share-b"}) {
    const auto r = client().request("PUT", "/jobs/" + job,
                                    nlohmann::json{{"source", source_}, {"uri", "s3://" + bucket_ + "/unused.csv"}}.dump(),
                                    {"Content-Type: application/json", admin});
    ASSERT_EQ(r.status, 201) << r.body;
    const auto k = client().post_json("/keys", {{"name", "partner-" + job}, {"scopes", {"feeds:" + job}}}, {admin});
    ASSERT_EQ(k.status, 201) << k.body;
    key_of[job] = "Authorization: Bearer " + k.json()["secret"].get<std::string>();
    // A key counts as itself once the server knows it: its first request teaches it.
    ASSERT_EQ(client().get("/jobs/" + job + "/runs", {key_of[job]}).status, 200);
  }
  // Partner A's first upload announces 100 MB and goes silent; the "100
  // Continue" says its handler runs, so it holds an upload slot.
  RawConnection silent(app_->port());
  silent.send("POST /feeds?job=share-a HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n" + key_of["share-a"] +
              "\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n");
  ASSERT_EQ(status_of(silent.read_response(20000)), 100);
  silent.send(std::string(1024, 'a'));

  const auto csv = feed_csv(5);
  const auto started = std::chrono::steady_clock::now();
  const auto second = upload("/feeds?job=share-a", csv, {"Content-Type: text/csv", key_of["share-a"]});
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_EQ(second.header("retry-after"), "1");
  EXPECT_NE(second.body.find("uploads in progress"), std::string::npos) << second.body;
  EXPECT_LT(waited, std::chrono::seconds(10)) << "refused at once, not after ADMISSION_MAX_WAIT_MS (20 s)";

  const auto other = upload("/feeds?job=share-b", csv, {"Content-Type: text/csv", key_of["share-b"]});
  EXPECT_EQ(other.status, 201) << "another partner's upload takes the free slot: " << other.body;
  const auto metrics = client().get("/metrics", {admin}).body;
  EXPECT_NE(metrics.find("catalog_http_refusals_total{reason=\"client_share\"} 1"), std::string::npos) << metrics;
}

TEST_F(FeedsApiTest, BodiesOverMaxFeedBytesAre413AndWriteNothing) {
  start({{"MAX_FEED_BYTES", "100000"}});
  create_job("small-feed");
  {
    // Announced length over the limit: refused before any body byte.
    RawConnection conn(app_->port());
    conn.send("POST /feeds?job=small-feed HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 200000\r\n\r\n");
    const auto raw = conn.read_response();
    EXPECT_EQ(status_of(raw), 413) << raw;
    EXPECT_EQ(nlohmann::json::parse(body_of(raw))["error"]["code"], "payload_too_large");
  }
  {
    // Chunked: the limit is found while streaming; the upload is abandoned.
    RawConnection conn(app_->port());
    conn.send("POST /feeds?job=small-feed HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string piece(50000, 'x');
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
    for (int i = 0; i < 3; ++i) conn.send(size_line + piece + "\r\n");
    conn.send("0\r\n\r\n");
    const auto raw = conn.read_response(20000);
    EXPECT_EQ(status_of(raw), 413) << raw;
  }
  // Under the limit still works (MAX_BODY_BYTES does not apply to feeds either way).
  EXPECT_EQ(upload("/feeds?job=small-feed", feed_csv(10)).status, 201);
  EXPECT_EQ(count("SELECT count(*) FROM feeds"), 1);
  EXPECT_EQ(objects_of_source(), 1u);
}

TEST_F(FeedsApiTest, RefusalsComeBeforeTheUpload) {
  start({{"JOB_WORKERS", "0"}});  // runs stay queued: the job has an active run after the first upload
  create_job("refused");
  auto r = upload("/feeds?job=no-such-job", feed_csv(2));
  EXPECT_EQ(r.status, 404) << r.body;
  r = upload("/feeds?job=refused", "a", {"Content-Type: text/plain"});
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("multipart/form-data"), std::string::npos) << r.body;
  EXPECT_EQ(upload("/feeds?job=refused", "{}", {"Content-Type: application/json"}).status, 415);
  EXPECT_EQ(upload("/feeds?job=refused&file_name=..", "a", {"Content-Type: text/csv"}).status, 422);
  EXPECT_EQ(upload("/feeds?job=refused&file_name=a%01b.csv", "a", {"Content-Type: text/csv"}).status, 422);
  EXPECT_EQ(upload("/feeds?job=refused&file_name=" + std::string(201, 'a'), "a", {"Content-Type: text/csv"}).status, 422);
  EXPECT_EQ(upload("/feeds", "a").status, 422) << "job is required";

  const auto first = upload("/feeds?job=refused", feed_csv(2));
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string run_id = first.json()["run_id"];
  EXPECT_EQ(client().get(first.header("location")).json()["run_status"], "queued");
  r = upload("/feeds?job=refused", feed_csv(2));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find(run_id), std::string::npos) << "names the active run: " << r.body;
  EXPECT_EQ(count("SELECT count(*) FROM feeds"), 1);
  EXPECT_EQ(objects_of_source(), 1u);
}

TEST_F(FeedsApiTest, UnauthenticatedUploadIs401WithoutReadingTheBody) {
  start({{"AUTH_DISABLED", "0"}, {"API_TOKEN", "feeds-secret-token"}});
  RawConnection conn(app_->port());
  conn.send("POST /feeds?job=x HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
            "Content-Length: 5000000\r\n\r\n");
  const auto raw = conn.read_response();
  EXPECT_EQ(status_of(raw), 401) << raw;
  EXPECT_NE(raw.find("onnection: close"), std::string::npos) << raw;
  EXPECT_EQ(conn.read_all(3000), "") << "connection closed, no 100 Continue";
  EXPECT_EQ(client().get("/feeds").status, 401);
  EXPECT_EQ(client().get("/feeds", {"Authorization: Bearer feeds-secret-token"}).status, 200);
}

TEST_F(FeedsApiTest, ClientHangingUpMidUploadLeavesNoFeedAndNoRun) {
  start({{"ADMISSION_CLIENT_SLOTS", "2"}});  // both uploads come from one client
  create_job("hangup");
  for (const std::size_t sent : {std::size_t{1} << 20, std::size_t{10} << 20}) {  // single PUT and multipart
    RawConnection conn(app_->port());
    conn.send("POST /feeds?job=hangup HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: " +
              std::to_string(std::size_t{16} << 20) + "\r\n\r\n");
    conn.send(std::string(sent, 'a'));
  }  // closed here, with most of the body missing
  // The handler fails once the server notices; nothing may be left behind.
  // Wait until both handlers have ended (not a fixed sleep, which passes
  // on a slow machine before they even ran).
  EXPECT_TRUE(wait_until([&] { return feed_posts_finished() >= 2; }, std::chrono::seconds(30)))
      << feed_posts_finished() << " of the 2 abandoned uploads finished";
  EXPECT_EQ(count("SELECT count(*) FROM feeds"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM job_runs"), 0);
  EXPECT_EQ(objects_of_source(), 0u);
  // And the job is free for the next upload.
  const auto r = upload("/feeds?job=hangup", feed_csv(3));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(FeedsApiTest, StalledClientTimesOutAndLeavesNothing) {
  start({{"READ_TIMEOUT", "1"}});
  create_job("stalled");
  RawConnection conn(app_->port());
  conn.send("POST /feeds?job=stalled HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n");
  conn.send(std::string(1000, 'a'));
  const auto started = std::chrono::steady_clock::now();
  conn.read_all(8000);  // the server gives up on the body and closes
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));
  EXPECT_EQ(count("SELECT count(*) FROM feeds"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM job_runs"), 0);
  EXPECT_EQ(upload("/feeds?job=stalled", feed_csv(2)).status, 201) << "the job is free again";
}

}  // namespace
}  // namespace catalog::testing
