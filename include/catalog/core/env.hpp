#pragma once

#include <functional>
#include <optional>
#include <string>

namespace catalog {

/// Reads an environment variable; injectable so tests never touch the real env.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (std::getenv).
EnvLookup process_env();

}  // namespace catalog
