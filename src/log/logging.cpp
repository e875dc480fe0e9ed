#include "catalog/log/logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace catalog::log {
namespace {

struct State {
  Format format = Format::json;
  std::shared_ptr<spdlog::logger> logger;
};

State& state() {
  static State s = [] {
    State st;
    // stdout_sink_mt writes each line with one fwrite under a mutex, so lines
    // from concurrent threads never interleave (CloudWatch parses per line).
    st.logger = std::make_shared<spdlog::logger>("catalog", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    st.logger->set_pattern("%v");
    st.logger->set_level(spdlog::level::info);
    st.logger->flush_on(spdlog::level::trace);
    return st;
  }();
  return s;
}

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

}  // namespace

void init(Format format, spdlog::level::level_enum level) {
  auto& s = state();
  s.format = format;
  s.logger->set_level(level);
}

bool enabled(spdlog::level::level_enum level) { return state().logger->should_log(level); }

void write(spdlog::level::level_enum level, std::string_view module, std::string_view message,
           const nlohmann::json& fields) {
  auto& s = state();
  if (!s.logger->should_log(level)) return;
  std::string line;
  if (s.format == Format::json) {
    nlohmann::json j = nlohmann::json::object();
    j["ts"] = utc_timestamp();
    j["level"] = level_name(level);
    j["module"] = module;
    j["msg"] = message;
    if (fields.is_object()) {
      for (const auto& [key, value] : fields.items()) j[key] = value;
    }
    // replace invalid UTF-8 instead of throwing: a log line must never fail.
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = utc_timestamp();
    line += ' ';
    line += level_name(level);
    line += " [";
    line += module;
    line += "] ";
    line += message;
    if (fields.is_object()) {
      for (const auto& [key, value] : fields.items()) {
        line += ' ';
        line += key;
        line += '=';
        line += value.is_string() ? value.get<std::string>()
                                  : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    }
  }
  s.logger->log(level, "{}", line);
}

}  // namespace catalog::log
