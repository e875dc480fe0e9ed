#pragma once

// Calls a Dispatcher in-process the way the server does after reading a
// request: the target goes through the server's own parser
// (http::parse_request_target), whose errors the server answers itself.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/http/error_mapping.hpp"
#include "catalog/http/message.hpp"
#include "catalog/http/request_target.hpp"
#include "catalog/http/router.hpp"

namespace catalog::testing {

class InProcessClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  /// `headers` go on every request (e.g. an Authorization header).
  explicit InProcessClient(const http::Dispatcher& dispatcher, Headers headers = {})
      : dispatcher_(dispatcher), headers_(std::move(headers)) {}

  http::Response get(const std::string& target, bool with_headers = true) const {
    http::Request request;
    request.method = "GET";
    request.target = target;
    try {
      http::parse_request_target(request);
    } catch (...) {  // the session answers these (invalid UTF-8, NUL, bad escapes) itself
      return http::exception_response(std::current_exception(), "test");
    }
    if (with_headers) request.headers = headers_;
    return dispatcher_.handle(request, std::chrono::steady_clock::now());
  }

  /// A 200 JSON body.
  nlohmann::json get_json(const std::string& target) const {
    const auto r = get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return nlohmann::json::parse(r.body);
  }

  /// A 400 JSON error (code bad_request, with a request id) whose message mentions `needle`.
  void expect_bad_request(const std::string& target, const std::string& needle) const {
    const auto r = get(target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    ASSERT_NE(r.header("Content-Type"), std::nullopt);
    EXPECT_NE(r.header("Content-Type")->find("application/json"), std::string::npos);
    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["error"]["code"], "bad_request") << r.body;
    EXPECT_NE(body["error"]["message"].get<std::string>().find(needle), std::string::npos) << target << ": " << r.body;
    EXPECT_FALSE(body["error"]["request_id"].get<std::string>().empty());
  }

  /// Every item of a keyset-paged list: GET `target` with `limit=`, then
  /// next_cursor to the end, checking that only the last page is short.
  std::vector<nlohmann::json> all_items(const std::string& target, std::size_t limit) const {
    const char* sep = target.find('?') == std::string::npos ? "?" : (target.back() == '?' ? "" : "&");
    const std::string base = target + sep + "limit=" + std::to_string(limit);
    std::vector<nlohmann::json> items;
    std::string next = base;
    for (int pages = 0; pages < 1000; ++pages) {
      const auto body = get_json(next);
      EXPECT_LE(body["items"].size(), limit);
      for (const auto& item : body["items"]) items.push_back(item);
      if (body["next_cursor"].is_null()) return items;
      EXPECT_EQ(body["items"].size(), limit) << "a short page must be the last";
      next = base + "&cursor=" + body["next_cursor"].get<std::string>();
    }
    ADD_FAILURE() << "paging did not end";
    return items;
  }

 private:
  const http::Dispatcher& dispatcher_;
  Headers headers_;
};

}  // namespace catalog::testing
