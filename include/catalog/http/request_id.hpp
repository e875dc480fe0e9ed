#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace catalog::http {

/// A request id to echo (a client's X-Request-Id, when sane: 1..128 printable
/// characters without a quote) or a fresh random UUID v4.
std::string choose_request_id(std::optional<std::string_view> client_value);

}  // namespace catalog::http
