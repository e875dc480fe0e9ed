#include "catalog/http/request_target.hpp"

#include <string_view>

namespace catalog::http {

void parse_request_target(Request& request) {
  const std::string_view target(request.target);
  const auto q = target.find('?');
  request.path = percent_decode(target.substr(0, q), false);
  request.query.clear();
  if (q != std::string_view::npos) request.query = parse_query(target.substr(q + 1));
}

}  // namespace catalog::http
