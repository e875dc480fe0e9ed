// The HTTP server's overload limits, against a real Server on loopback with
// a small router of its own (no database needed): connection cap, running
// out of file descriptors, the buffered-body memory budget, total body
// deadlines, the bounded worker queue.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/time.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/http/router.hpp"
#include "catalog/http/server.hpp"
#include "catalog/metrics/metrics.hpp"
#include "support/timing.hpp"
#include "support/http_client.hpp"

namespace catalog::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Resident memory of this process (client and server both live here).
std::size_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// User + system CPU time of this process.
std::chrono::microseconds cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto tv = [](const timeval& t) { return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec); };
  return std::chrono::duration_cast<std::chrono::microseconds>(tv(usage.ru_utime) + tv(usage.ru_stime));
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A handler that holds its worker until released.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_waiters(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

class TestServer {
 public:
  explicit TestServer(http::Server::Options options) {
    http::Router router;
    router.add("GET", "/ping", [](const http::Request&) { return http::json_response(200, {{"ok", true}}); });
    // Public and non-blocking, as the real /health: answered on the I/O thread.
    router.add("GET", "/health", [](const http::Request&) { return http::json_response(200, {{"ok", true}}); },
               http::Router::Blocking::nonblocking, http::Access::public_read);
    router.add("POST", "/echo", [](const http::Request& r) {
      return http::json_response(200, {{"bytes", r.body.size()}});
    });
    router.add("GET", "/block", [this](const http::Request&) {
      gate_.wait();
      return http::json_response(200, {{"ok", true}});
    });
    // A streamed upload route (the server streams POST /feeds bodies).
    router.add("POST", "/feeds", [](const http::Request& r) {
      char buffer[4096];
      std::size_t total = 0;
      while (const auto n = r.body_stream(buffer, sizeof buffer)) total += n;
      return http::json_response(200, {{"bytes", total}});
    });
    // Stands in for a search on a large catalogue: the server's admission
    // classes look at the route and query, not at the handler.
    router.add("GET", "/products", [](const http::Request& r) {
      if (r.query.count("q") > 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return http::json_response(200, {{"items", nlohmann::json::array()}});
    });
    dispatcher_ = std::make_unique<http::Dispatcher>(std::move(router), http::Dispatcher::Options{});
    options.address = "127.0.0.1";
    options.metrics = &metrics_;
    options.port = 0;
    server_ = std::make_unique<http::Server>(options, *dispatcher_);
    port_ = server_->start();
  }
  ~TestServer() {
    gate_.open();
    server_->stop();
  }
  std::uint16_t port() const { return port_; }
  HttpClient client() const { return HttpClient(port_); }
  Gate& gate() { return gate_; }
  std::string metrics() const { return metrics_.render(std::nullopt); }
  http::Server& server() { return *server_; }

 private:
  Gate gate_;
  metrics::Registry metrics_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
};

http::Server::Options small_options() {
  http::Server::Options o;
  o.io_threads = 2;
  o.worker_threads = 2;
  return o;
}

// How long a plain GET takes, retrying while the server refuses (a refused
// connection answers 503 or is reset).
std::chrono::milliseconds time_to_success(const HttpClient& client, const std::string& target,
                                          std::chrono::milliseconds give_up) {
  const auto start = Clock::now();
  while (Clock::now() - start < give_up) {
    try {
      if (client.get(target).status == 200) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(give_up) + 1ms;
}

TEST(HttpLimitsTest, FullWorkerQueueIsAnswered503OverloadedAtOnce) {
  auto options = small_options();
  options.worker_threads = 1;
  options.worker_queue_limit = 1;
  TestServer s(options);
  const auto client = s.client();
  // One request holds the only worker, a second waits in the queue.
  auto first = std::async(std::launch::async, [&] { return client.get("/block"); });
  ASSERT_TRUE(s.gate().wait_for_waiters(1, 5s));
  auto second = std::async(std::launch::async, [&] { return client.get("/block"); });
  // `second` is read and waiting for the worker: the queue is full.
  ASSERT_TRUE(wait_until([&] { return s.server().queued_requests() == 1; }, 5s));

  const auto start = Clock::now();
  const auto third = client.get("/block");
  // The queued request waits for the gate, which stays shut: an answer at
  // all means the I/O thread answered; the bound is what a client notices.
  EXPECT_LT(Clock::now() - start, scaled(2s)) << "answered on the I/O thread, not after the queue";
  EXPECT_EQ(third.status, 503) << third.body;
  EXPECT_EQ(third.header("retry-after"), "1");
  EXPECT_EQ(third.json()["error"]["code"], "overloaded");
  EXPECT_EQ(third.json()["error"]["request_id"], third.header("x-request-id"));
  // Nonblocking routes do not need a worker.
  EXPECT_EQ(client.get("/health").status, 200);

  s.gate().open();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);
  EXPECT_EQ(client.get("/ping").status, 200) << "the queue frees up again";
}

// Issue 11: connections that each send headers and 256 KB of a 1 MB body and
// then stall used to hold all of it (3,000 of them: 730 MiB). Scaled to 600
// connections: the budget of 16 MiB buffered bodies keeps this process's RSS
// growth under 40 MiB (measured: 9 MiB; 74 MiB without the budget), refusing
// the rest with 503, and a normal client is served within 2 s meanwhile.
TEST(HttpLimitsTest, StalledBodiesAreBoundedByTheBufferedBodyBudget) {
  auto options = small_options();
  options.max_buffered_body_bytes = 16 << 20;
  TestServer s(options);
  const std::size_t before = rss_bytes();

  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: 1000000\r\n\r\n";
  const std::string part(256 * 1024, ' ');
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 600; ++i) {
    auto c = std::make_unique<RawConnection>(s.port());
    ASSERT_TRUE(c->connected()) << i;
    c->try_send(head, 1000);
    c->try_send(part, 200);
    stalled.push_back(std::move(c));
  }
  // Let the server read what it will: RSS stops moving (polled, not a fixed sleep).
  std::size_t after = rss_bytes();
  wait_until(
      [&] {
        std::this_thread::sleep_for(200ms);
        const auto now = rss_bytes();
        const bool settled = now == after;
        after = now;
        return settled;
      },
      5s);
  const auto growth_mib = (after > before ? after - before : 0) >> 20;
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine keeps freed blocks resident, so RSS says little there;
  // the release build asserts the bound.
#else
  EXPECT_LT(growth_mib, 40u) << "RSS grew by " << growth_mib << " MiB";
#endif
  std::printf("RSS growth with 600 stalled uploads: %zu MiB\n", static_cast<std::size_t>(growth_mib));

  const auto took = time_to_success(s.client(), "/ping", scaled(10s));
  EXPECT_LE(took, scaled(2000ms));
  // Some were refused with 503 overloaded rather than buffered.
  std::size_t refused = 0, told = 0;
  for (auto& c : stalled) {
    std::string got;
    if (c->wait_closed(10, &got)) ++refused;
    if (got.find(" 503 ") != std::string::npos && got.find("overloaded") != std::string::npos) ++told;
  }
  EXPECT_GE(refused, 500u);
  EXPECT_GE(told, 500u) << "refused uploads are told why before the connection closes";
}

TEST(HttpLimitsTest, ConnectionsBeyondTheCapAreClosedPromptlyWithoutSpinning) {
  auto options = small_options();
  options.max_connections = 50;
  TestServer s(options);
  EXPECT_EQ(s.server().max_connections(), 50u);

  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<RawConnection>(s.port()));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  // The 150 beyond the cap are answered 503 and closed promptly: wait for
  // the server's count to reach the cap, then look at each connection.
  EXPECT_TRUE(wait_until([&] { return s.server().open_connections() == 50u; }, 10s))
      << s.server().open_connections() << " open";
  const auto settle_until = Clock::now() + scaled(2s);
  std::size_t closed = 0, with_503 = 0;
  std::vector<std::unique_ptr<RawConnection>> kept;
  for (auto& c : idle) {
    std::string got;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(settle_until - Clock::now()).count();
    if (c->wait_closed(static_cast<int>(std::max<long>(10, left)), &got)) {
      ++closed;
      if (got.rfind("HTTP/1.1 503", 0) == 0 && ++with_503 == 1) {
        EXPECT_NE(got.find("Retry-After: 1\r\n"), std::string::npos) << got;
        const auto body = nlohmann::json::parse(body_of(got));
        EXPECT_EQ(body["error"]["code"], "overloaded");
        EXPECT_NE(got.find("X-Request-Id: " + body["error"]["request_id"].get<std::string>()), std::string::npos);
      }
    } else {
      kept.push_back(std::move(c));
    }
  }
  EXPECT_EQ(closed, 150u);
  EXPECT_GE(with_503, 100u) << "refused connections are told why";
  EXPECT_EQ(s.server().open_connections(), 50u);

  // At the cap, the server does not spin: CPU over one idle second stays low.
  const auto cpu_before = cpu_time();
  std::this_thread::sleep_for(1s);
  EXPECT_LT(cpu_time() - cpu_before, scaled(200ms));

  // Once some connections go away, a normal client is served.
  kept.resize(kept.size() - 5);
  const auto took = time_to_success(s.client(), "/ping", scaled(10s));
  EXPECT_LE(took, scaled(2000ms));
}

// EMFILE: with the descriptor limit lowered below what the clients need, the
// pending connections stay in the backlog; accept must pause on a timer, not
// fail and retry in a tight loop. (Each ctest test is its own process, so
// lowering this process's limit touches nothing else.)
TEST(HttpLimitsTest, RunningOutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check needs a pipe() from the sanitizer runtime the first
  // time it meets a type (IsAccessibleMemoryRange); with no descriptor left
  // it reports a valid shared_ptr control block as corrupt. A false report,
  // not a server bug: docs/reliability.md ("Sanitizers and descriptor
  // exhaustion") has the reproduction. The release build runs this test.
  GTEST_SKIP() << "EMFILE test runs in the release build only (see docs/reliability.md)";
#endif
  TestServer s(small_options());
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  rlimit lowered = original;
  lowered.rlim_cur = open_descriptors() + 30;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 25; ++i) {
    auto c = std::make_unique<RawConnection>(s.port());
    if (!c->connected()) break;
    clients.push_back(std::move(c));
  }
  std::this_thread::sleep_for(300ms);  // the server accepts what it can and hits EMFILE
  const auto cpu_before = cpu_time();
  std::this_thread::sleep_for(1s);
  const auto cpu_used = cpu_time() - cpu_before;

  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
  // Client and server share the 30 spare descriptors (two per accepted
  // connection), so how many clients got a socket before EMFILE depends on
  // how fast the server accepted: enough to exhaust the limit is what counts.
  EXPECT_GE(clients.size(), 10u);
  EXPECT_LT(cpu_used, 300ms) << "accept loop spinning on EMFILE";
  clients.clear();
  const auto took = time_to_success(s.client(), "/ping", 10s);
  EXPECT_LE(took, 3000ms) << "accepting resumes after the backoff";
}

#if defined(__SANITIZE_ADDRESS__)
constexpr int kSlowdown = 4;  // sanitizers slow every request down
#else
constexpr int kSlowdown = 1;
#endif

// Fairness as a user sees it: searches running at three times the worker
// count used to fill the worker pool's FIFO, so a cheap request waited
// behind all of them (5-7 s on a 300k-row catalogue). Expensive reads now
// hold a bounded share of the workers (a quarter: 1 of 4 here) and wait
// outside the pool: a cheap request answers at idle speed plus a small
// constant, and a search that would wait past ADMISSION_MAX_WAIT is 503 +
// Retry-After, counted by reason.
TEST(HttpLimitsTest, CheapRequestsStayFastWhileSearchesRunAtThreeTimesTheWorkers) {
  auto options = small_options();
  options.worker_threads = 4;
  options.admission_max_wait = 1000ms;
  options.trust_forwarded_for = true;  // each searcher its own client, as behind the ALB
  TestServer s(options);
  const auto client = s.client();
  const auto idle_start = Clock::now();
  ASSERT_EQ(client.get("/ping").status, 200);
  const auto idle = Clock::now() - idle_start;

  std::atomic<bool> stop{false};
  std::atomic<int> searched{0}, refused{0}, retry_after{0};
  std::vector<std::thread> searchers;
  for (int i = 0; i < 3 * options.worker_threads; ++i) {
    searchers.emplace_back([&, i] {
      const std::string forwarded = "X-Forwarded-For: 127.0.1." + std::to_string(i + 1);
      while (!stop) {
        const auto r = client.get("/products?q=ab&with_count=true&limit=100", {forwarded});
        if (r.status == 200) ++searched;
        if (r.status == 503) ++refused;
        if (r.status == 503 && r.header("retry-after") == "1") ++retry_after;
      }
    });
  }
  // Measure only once the searches have filled their share: the first
  // refusal (after ADMISSION_MAX_WAIT) proves a search had to wait for it.
  const auto saturated_by = Clock::now() + scaled(30s);
  while (refused.load() == 0 && Clock::now() < saturated_by) std::this_thread::sleep_for(10ms);
  const bool saturated = refused.load() > 0;
  std::chrono::steady_clock::duration worst{};
  for (int i = 0; i < 20; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(client.get("/ping").status, 200);
    EXPECT_EQ(client.get("/products?source=a&limit=5").status, 200);  // a cheap read of the same route
    worst = std::max(worst, Clock::now() - start);
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  for (auto& t : searchers) t.join();
  ASSERT_TRUE(saturated) << "the searches never filled their share of the workers";
  const auto worst_ms = std::chrono::duration_cast<std::chrono::milliseconds>(worst).count();
  std::printf("cheap requests while searching: worst %lld ms (idle %lld ms)\n", static_cast<long long>(worst_ms),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(idle).count()));
  EXPECT_LT(worst, idle + 250ms * kSlowdown) << "a cheap request waited behind the searches";
  EXPECT_GT(searched.load(), 0) << "searches still run";
  EXPECT_GT(refused.load(), 0) << "searches past the wait bound are refused, not queued for ever";
  EXPECT_EQ(retry_after.load(), refused.load());
  EXPECT_NE(s.metrics().find("catalog_http_refusals_total{reason=\"queue_wait\"}"), std::string::npos);
  EXPECT_EQ(s.metrics().find("catalog_http_refusals_total{reason=\"queue_wait\"} 0"), std::string::npos)
      << s.metrics();
}

// Uploads that announce a large body and go silent each held a worker until
// the read timeout (28 s for every worker-bound route with 12 of them).
// Uploads now hold at most their share of the workers; the next is told to
// retry at once, and cheap requests keep their workers.
TEST(HttpLimitsTest, SilentUploadsHoldOnlyTheirShareOfWorkers) {
  auto options = small_options();
  options.worker_threads = 4;
  options.read_timeout = 30s;
  options.admission_max_wait = 500ms;
  options.trust_forwarded_for = true;  // six clients, as behind the ALB
  TestServer s(options);
  std::vector<std::unique_ptr<RawConnection>> uploads;
  for (int i = 0; i < 6; ++i) {
    auto c = std::make_unique<RawConnection>(s.port());
    ASSERT_TRUE(c->connected());
    c->send("POST /feeds HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000000\r\n"
            "X-Forwarded-For: 127.0.1." + std::to_string(i + 1) + "\r\n\r\n" + std::string(1024, 'a'));
    uploads.push_back(std::move(c));
  }
  // Meanwhile, cheap requests keep their workers.
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(s.client().get("/ping").status, 200);
    EXPECT_LT(Clock::now() - start, 500ms * kSlowdown) << "a cheap request waited for the silent uploads";
  }
  // One upload slot (a quarter of 4 workers): the others waited their
  // bound for it and were told to retry.
  int refused = 0;
  for (auto& c : uploads) {
    std::string got;
    c->wait_closed(3000 * kSlowdown, &got);
    if (status_of(got) == 503 && got.find("Retry-After: 1") != std::string::npos) ++refused;
  }
  EXPECT_EQ(refused, 5);
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(s.client().get("/ping").status, 200);
    EXPECT_LT(Clock::now() - start, 500ms * kSlowdown) << "a cheap request waited for the silent uploads";
  }
  EXPECT_EQ(s.metrics().find("catalog_http_refusals_total{reason=\"upload_share\"} 0"), std::string::npos);
}

// Chunk extensions and trailer sections are not body bytes, so neither the
// body limit nor the buffered-body budget saw them: an endless one used to
// grow memory for as long as the client sent (256 MiB in 2 s). Now the
// server answers 400 after a few kilobytes, on the buffered and the
// streamed path alike.
TEST(HttpLimitsTest, EndlessChunkExtensionOrTrailerIsRefusedAfterAFewKilobytes) {
  TestServer s(small_options());
  const std::string chunked = " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  struct Case {
    std::string name, start, repeat;
  };
  const std::vector<Case> cases = {
      {"endless extension", "POST /echo" + chunked + "1;x=", std::string(64 * 1024, 'a')},
      {"endless trailer", "POST /echo" + chunked + "1\r\n{\r\n0\r\nX-T: ", std::string(64 * 1024, 'a')},
      {"many trailer fields", "POST /echo" + chunked + "1\r\n{\r\n0\r\n", [] {
         std::string fields;
         while (fields.size() < 64 * 1024) fields += "X-T: " + std::string(50, 'a') + "\r\n";
         return fields;
       }()},
      {"extensions on every chunk", "POST /echo" + chunked, "1;x=" + std::string(500, 'a') + "\r\n \r\n"},
      {"endless extension, streamed", "POST /feeds" + chunked + "1;x=", std::string(64 * 1024, 'a')},
  };
  for (const auto& c : cases) {
    RawConnection conn(s.port());
    ASSERT_TRUE(conn.connected());
    conn.send(c.start);
    std::size_t sent = 0;
    std::string got;
    while (sent < (std::size_t{64} << 20) && got.find("HTTP/1.1 ") == std::string::npos) {
      const auto n = conn.try_send(c.repeat, 200);
      sent += n;
      conn.wait_closed(n == 0 ? 200 : 10, &got);  // under 1 ms it would not even poll
      if (n == 0 && got.empty()) break;  // reset without an answer
    }
    conn.wait_closed(5000, &got);
    EXPECT_EQ(status_of(got), 400) << c.name << ": after " << (sent >> 20) << " MiB: " << got.substr(0, 200);
    EXPECT_NE(got.find("\"error\""), std::string::npos) << c.name;
    EXPECT_LT(sent, std::size_t{16} << 20) << c.name << ": the server kept reading";
  }
  EXPECT_EQ(s.client().get("/ping").status, 200);
}

// A client that sends its body a byte at a time is cut off at the body's
// total deadline, however regularly the bytes arrive.
TEST(HttpLimitsTest, TricklingBodyIsCutOffAtItsTotalDeadline) {
  auto options = small_options();
  options.body_timeout = 2s;
  options.read_timeout = 30s;
  TestServer s(options);
  RawConnection c(s.port());
  ASSERT_TRUE(c.connected());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
  const auto start = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - start < scaled(10s)) {
    c.try_send(" ", 100);
    closed = c.wait_closed(300);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, 2s + scaled(2s)) << "the 2 s deadline, not the 30 s read timeout";
  EXPECT_EQ(s.client().get("/ping").status, 200);
}

TEST(HttpLimitsTest, TricklingStreamedUploadIsCutOffAtItsTotalDeadline) {
  auto options = small_options();
  options.feed_body_timeout = 2s;
  options.read_timeout = 30s;
  TestServer s(options);
  RawConnection c(s.port());
  ASSERT_TRUE(c.connected());
  c.send("POST /feeds HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n");
  const auto start = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - start < scaled(10s)) {
    c.try_send("a", 100);
    closed = c.wait_closed(300);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, 2s + scaled(2s)) << "the 2 s deadline, not the 30 s read timeout";
  EXPECT_EQ(s.client().get("/ping").status, 200);
}

TEST(HttpLimitsTest, TricklingHeadersAreCutOffAtTheHeaderDeadline) {
  auto options = small_options();
  options.idle_timeout = 2s;
  TestServer s(options);
  RawConnection c(s.port());
  ASSERT_TRUE(c.connected());
  const std::string head = "GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  const auto start = Clock::now();
  bool closed = false;
  for (std::size_t i = 0; !closed && i < head.size() && Clock::now() - start < scaled(10s); ++i) {
    c.try_send(head.substr(i, 1), 100);
    closed = c.wait_closed(200);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, 2s + scaled(2s)) << "the 2 s deadline, not the 30 s read timeout";
}

}  // namespace
}  // namespace catalog::testing
