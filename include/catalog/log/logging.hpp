#pragma once

#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

namespace catalog::log {

enum class Format { json, text };

/// Installs the process-wide stdout sink. Call once at start-up, before any
/// other thread logs. Without it, lines go to stdout as JSON at info level.
void init(Format format, spdlog::level::level_enum level);

/// One log line: `{"ts","level","module","msg",...fields}` in JSON format, or
/// `ts level [module] msg key=value ...` in text format. Fields must never
/// carry secrets: wrap them in catalog::Secret, which has no printable form.
void write(spdlog::level::level_enum level, std::string_view module, std::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view module, std::string_view message,
                  const nlohmann::json& fields = nlohmann::json::object()) {
  write(spdlog::level::debug, module, message, fields);
}
inline void info(std::string_view module, std::string_view message,
                 const nlohmann::json& fields = nlohmann::json::object()) {
  write(spdlog::level::info, module, message, fields);
}
inline void warn(std::string_view module, std::string_view message,
                 const nlohmann::json& fields = nlohmann::json::object()) {
  write(spdlog::level::warn, module, message, fields);
}
inline void error(std::string_view module, std::string_view message,
                  const nlohmann::json& fields = nlohmann::json::object()) {
  write(spdlog::level::err, module, message, fields);
}

bool enabled(spdlog::level::level_enum level);

}  // namespace catalog::log
