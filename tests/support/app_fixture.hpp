#pragma once

// Runs the real service in-process on 127.0.0.1:<free port> for a test, with
// configuration read through the same config::load as production.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "catalog/app/app.hpp"
#include "catalog/config/config.hpp"
#include "catalog/log/logging.hpp"
#include "support/http_client.hpp"

namespace catalog::testing {

/// Environment for config::load: a DSN plus AUTH_DISABLED unless overridden.
inline std::map<std::string, std::string> base_env(const std::string& dsn) {
  return {{"DATABASE_URL", dsn}, {"PORT", "0"}, {"BIND_ADDRESS", "127.0.0.1"}, {"AUTH_DISABLED", "1"},
          {"DB_POOL_SIZE", "4"}, {"LOG_LEVEL", "warn"}};
}

/// `env` with authentication on: `token` is the bootstrap admin key
/// (API_TOKEN) and AUTH_DISABLED is gone.
inline std::map<std::string, std::string> with_token(std::map<std::string, std::string> env, const std::string& token) {
  env.erase("AUTH_DISABLED");
  env["API_TOKEN"] = token;
  return env;
}
/// base_env with authentication on (with_token).
inline std::map<std::string, std::string> token_env(const std::string& dsn, const std::string& token) {
  return with_token(base_env(dsn), token);
}

inline config::EnvLookup env_from(std::map<std::string, std::string> env) {
  return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

class RunningApp {
 public:
  explicit RunningApp(const std::map<std::string, std::string>& env, bool wait_ready = true)
      : app_(make_app(env)), port_(app_->start()), client_(port_) {
    if (wait_ready && !app_->wait_ready(std::chrono::seconds(30))) throw std::runtime_error("app not ready in 30 s");
  }
  ~RunningApp() { shutdown(); }

  void shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) {
    if (app_) app_->shutdown(std::chrono::steady_clock::now() + grace);
  }
  app::App& app() { return *app_; }
  std::uint16_t port() const { return port_; }
  const HttpClient& client() const { return client_; }

 private:
  static std::unique_ptr<app::App> make_app(const std::map<std::string, std::string>& env) {
    const auto config = config::load(env_from(env));
    log::init(log::Format::json, spdlog::level::from_str(config.log_level));
    return std::make_unique<app::App>(config, env_from(env));
  }
  std::unique_ptr<app::App> app_;
  std::uint16_t port_;
  HttpClient client_;
};

}  // namespace catalog::testing
