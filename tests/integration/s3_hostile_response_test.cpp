// S3 responses are untrusted input too: the S3 client against a small
// raw-socket server on loopback that misbehaves on purpose (the real
// S3-compatible server never sends these bytes; every normal path is tested
// against it in s3_client_test.cpp). Each case failed before its fix.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/core/errors.hpp"
#include "catalog/s3/s3_client.hpp"

namespace catalog::s3 {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// One request as the fake saw it: the request line and its head.
struct SeenRequest {
  std::string line;
  std::string head;
};

// A keep-alive HTTP/1.1 server that answers each request with whatever
// `respond` writes to the socket (no framing help: the point is to send
// wrong framing). One thread per connection; stops in the destructor.
class MisbehavingS3 {
 public:
  using Respond = std::function<void(int fd, const SeenRequest&)>;

  explicit MisbehavingS3(Respond respond) : respond_(std::move(respond)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~MisbehavingS3() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : workers_) t.join();
    for (int fd : connections_) ::close(fd);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  int connections() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(connections_.size());
  }

  static bool send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string buffer;
    char chunk[4096];
    while (!stopping_) {
      const auto end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) {
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      SeenRequest request{buffer.substr(0, buffer.find("\r\n")), buffer.substr(0, end)};
      buffer.erase(0, end + 4);  // the client sends no request bodies here
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(request);
      }
      respond_(fd, request);
    }
  }

  Respond respond_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> workers_;
  std::vector<SeenRequest> seen_;
};

class S3HostileResponseTest : public ::testing::Test {
 protected:
  std::unique_ptr<CurlS3Client> client(const MisbehavingS3& server, S3Config config = {}) {
    config.endpoint = server.endpoint();
    config.region = "us-east-1";
    config.base_backoff = 10ms;
    config.max_backoff = 50ms;
    config.max_attempts = 2;
    auto creds = std::make_shared<StaticCredentialsProvider>(
        Credentials{"AKIDEXAMPLE", Secret("secret"), Secret(), std::nullopt, "static"});
    return std::make_unique<CurlS3Client>(config, creds, clock_);
  }
  static std::string get_all(ObjectStore& s3, const std::string& key) {
    std::string out;
    s3.get_object("bucket", key, [&](const char* d, std::size_t n) { out.append(d, n); });
    return out;
  }
  static std::string response(const std::string& etag, const std::string& body, const std::string& length = "") {
    return "HTTP/1.1 200 OK\r\nETag: \"" + etag + "\"\r\nContent-Length: " +
           (length.empty() ? std::to_string(body.size()) : length) + "\r\n\r\n" + body;
  }
  SystemClock clock_;
};

// Bytes beyond Content-Length used to stay on the kept-alive connection and
// be read by the next request as its own response (an ETag and a body that
// belong to nobody). Now such a connection is never reused: the download
// fails when the extra bytes are already there as it ends, and a connection
// they reach later is dropped before its next request.
TEST_F(S3HostileResponseTest, BodyLongerThanContentLengthNeverReachesTheNextRequest) {
  for (const auto pause : {0ms, 100ms}) {
    MisbehavingS3 server([pause](int fd, const SeenRequest& r) {
      if (r.line.rfind("GET /bucket/long.csv", 0) == 0) {
        MisbehavingS3::send_all(fd, response("long", "hello") + (pause.count() == 0 ? response("forged", "evil") : ""));
        if (pause.count() == 0) return;
        std::this_thread::sleep_for(pause);
        MisbehavingS3::send_all(fd, response("forged", "evil"));
      } else if (r.line.rfind("HEAD", 0) == 0) {
        MisbehavingS3::send_all(fd, "HTTP/1.1 200 OK\r\nETag: \"real\"\r\nContent-Length: 7\r\n\r\n");
      } else {
        MisbehavingS3::send_all(fd, response("real", "content"));
      }
    });
    auto s3 = client(server);
    try {
      EXPECT_EQ(get_all(*s3, "long.csv"), "hello");  // the extra bytes came after it ended, or libcurl saw them
    } catch (const S3Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("longer than its Content-Length"));
    }
    std::this_thread::sleep_for(pause * 2);  // the late bytes are on the idle connection now
    const ObjectInfo next = s3->head_object("bucket", "next.csv");
    EXPECT_EQ(next.etag, "\"real\"") << "the next request read the previous response's leftovers (pause "
                                      << pause.count() << " ms)";
    EXPECT_EQ(get_all(*s3, "other.csv"), "content");
  }
}

// A Content-Length beyond 2^64 used to be accepted, the body read to the
// end of the connection and the object recorded with a size of 0.
TEST_F(S3HostileResponseTest, ContentLengthBeyondTwoToTheSixtyFourFailsTheDownload) {
  MisbehavingS3 server([](int fd, const SeenRequest&) {
    MisbehavingS3::send_all(fd, response("big", "sku,name\n1,a\n", "99999999999999999999999"));
    ::shutdown(fd, SHUT_WR);
  });
  auto s3 = client(server);
  try {
    get_all(*s3, "big.csv");
    ADD_FAILURE() << "an impossible Content-Length was accepted";
  } catch (const S3Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("invalid Content-Length"));
  }
  EXPECT_THROW(s3->head_object("bucket", "big.csv"), S3Error);
}

// A body that drips a byte at a time: each stall used to resume with a
// Range request and reset the retry count, holding a job worker for ever.
// S3_OBJECT_TIMEOUT bounds the whole object, resumes included.
TEST_F(S3HostileResponseTest, DrippingBodyFailsAtTheWholeObjectBoundNamingIt) {
  MisbehavingS3 server([](int fd, const SeenRequest&) {
    MisbehavingS3::send_all(fd, "HTTP/1.1 200 OK\r\nETag: \"drip\"\r\nContent-Length: 100000\r\n\r\n");
    for (int i = 0; i < 400; ++i) {
      if (!MisbehavingS3::send_all(fd, "x")) return;
      std::this_thread::sleep_for(20ms);
    }
    ::shutdown(fd, SHUT_RDWR);
  });
  S3Config config;
  config.object_timeout = 2s;
  auto s3 = client(server, config);
  const auto start = std::chrono::steady_clock::now();
  try {
    get_all(*s3, "drip.csv");
    ADD_FAILURE() << "a dripping body completed";
  } catch (const S3Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("S3_OBJECT_TIMEOUT"));
    EXPECT_THAT(e.what(), HasSubstr("s3://bucket/drip.csv"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
}

// A legal ListObjectsV2 page (1,000 keys of 200 characters, about 380 KB)
// used to fail with "Failure writing output" at a 256 KiB cap.
TEST_F(S3HostileResponseTest, FullListPageOfLongKeysIsRead) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>bucket</Name>";
  for (int i = 0; i < 1000; ++i) {
    const std::string n = std::to_string(1000 + i);
    xml += "<Contents><Key>feeds/" + std::string(190, 'k') + n + "</Key><LastModified>2026-12-01T00:00:00.000Z"
           "</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>123</Size>"
           "<StorageClass>STANDARD</StorageClass></Contents>";
  }
  xml += "<IsTruncated>false</IsTruncated></ListBucketResult>";
  ASSERT_GT(xml.size(), 300'000u);
  MisbehavingS3 server([&xml](int fd, const SeenRequest&) {
    MisbehavingS3::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " +
                                    std::to_string(xml.size()) + "\r\n\r\n" + xml);
  });
  auto s3 = client(server);
  const ListPage page = s3->list_objects_page("bucket", ListOptions{});
  EXPECT_EQ(page.objects.size(), 1000u);
}

// Keys go out exactly as stored and signed: libcurl used to squash "./" and
// "../" segments, so the request named another key (or bucket).
TEST_F(S3HostileResponseTest, DotSegmentsInAKeyAreSentAsIs) {
  MisbehavingS3 server([](int fd, const SeenRequest&) { MisbehavingS3::send_all(fd, response("e", "x")); });
  auto s3 = client(server);
  EXPECT_EQ(get_all(*s3, "a/./b/../../other/k.csv"), "x");
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].line, "GET /bucket/a/./b/../../other/k.csv HTTP/1.1");
}

}  // namespace
}  // namespace catalog::s3
