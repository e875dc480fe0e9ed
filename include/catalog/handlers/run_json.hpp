#pragma once

#include <nlohmann/json.hpp>

#include "catalog/db/runs_repository.hpp"

namespace catalog::handlers {

/// The run resource as GET /runs/{id} shows it.
nlohmann::json run_to_json(const db::Run& run);

}  // namespace catalog::handlers
