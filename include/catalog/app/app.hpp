#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include "catalog/config/config.hpp"

namespace catalog::app {

/// The whole service wired together: pool, repositories, routes, HTTP server.
/// `catalog-api serve` runs one; integration tests run one in-process on port 0.
class App {
 public:
  /// `env` is where the AWS credentials chain looks (the process environment
  /// in production; a map in tests).
  App(config::Config config, const config::EnvLookup& env);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  /// Starts serving; migrations run in the background (retrying while the
  /// database is away) and /health answers 503 until they are done.
  /// Returns the bound port.
  std::uint16_t start();

  /// Blocks until migrations are applied or `timeout` passes; true if ready.
  bool wait_ready(std::chrono::milliseconds timeout) const;

  /// SIGTERM behaviour: stop accepting, /health → 503, let requests in flight
  /// finish until `deadline`, then stop. Safe to call twice.
  void shutdown(std::chrono::steady_clock::time_point deadline);

  /// (method, pattern) of every route served; the OpenAPI test checks
  /// docs/openapi.json against it.
  std::vector<std::pair<std::string, std::string>> routes() const;
  /// Whether `method` + `path` needs a key when auth is on (the routes' own
  /// Access::public_read); the OpenAPI test checks each operation's security.
  bool requires_auth(const std::string& method, const std::string& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catalog::app
