#pragma once

#include "catalog/core/errors.hpp"

namespace catalog::http {

/// 415: the request body is not in a media type the route accepts.
class UnsupportedMediaType : public Error {
  using Error::Error;
};

/// 413: the body is larger than the route allows.
class PayloadTooLarge : public Error {
  using Error::Error;
};

}  // namespace catalog::http
