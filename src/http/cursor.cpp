#include "catalog/http/cursor.hpp"

#include "catalog/core/errors.hpp"
#include "catalog/http/request_helpers.hpp"

namespace catalog::http {

std::string encode_cursor(int version, const nlohmann::json& fields) {
  nlohmann::json array = nlohmann::json::array({version});
  for (const auto& field : fields) array.push_back(field);
  return base64url_encode(array.dump());
}

nlohmann::json decode_cursor(std::string_view text, int version, std::size_t field_count) {
  nlohmann::json array;
  try {
    array = nlohmann::json::parse(base64url_decode(text));
  } catch (const nlohmann::json::exception&) {
    throw BadRequest("malformed cursor");
  }
  if (!array.is_array() || array.size() != field_count + 1 || array[0] != version) {
    throw BadRequest("malformed cursor");
  }
  array.erase(array.begin());
  return array;
}

}  // namespace catalog::http
