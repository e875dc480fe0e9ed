#pragma once

// The shape of an API key secret, written out independently of the server's
// own check: "cat_" + 43 base64url characters (32 random bytes). Plain loops
// instead of <regex>, whose std::function internals trip GCC 12's
// -Wmaybe-uninitialized under ASan.

#include <cctype>
#include <string>
#include <string_view>

namespace catalog::testing {

inline bool is_key_secret(std::string_view s) {
  if (s.size() != 47 || s.substr(0, 4) != "cat_") return false;
  for (const char c : s.substr(4)) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

/// The first key secret in `text`, or "" when there is none.
inline std::string find_key_secret(std::string_view text) {
  for (auto at = text.find("cat_"); at != std::string_view::npos; at = text.find("cat_", at + 1)) {
    if (at + 47 <= text.size() && is_key_secret(text.substr(at, 47))) return std::string(text.substr(at, 47));
  }
  return {};
}

}  // namespace catalog::testing
