#pragma once
// The request side of PUT /jobs/{id} apart from the database: the job id
// slug and the JSON definition (source, uri, options with options.notify
// under the service's URL policy). Used by jobs_handler.cpp and called as is
// by the fuzz target.

#include <string>

#include "catalog/db/jobs_repository.hpp"
#include "catalog/handlers/routes.hpp"
#include "catalog/http/message.hpp"

namespace catalog::handlers {

/// The job PUT /jobs/{id} asks to store: `request.params["id"]` and its JSON
/// body, validated (bare keys need `raw_bucket`). Throws BadRequest or
/// ValidationError naming the field. created_at/updated_at are left empty.
db::Job parse_job_definition(const http::Request& request, const std::string& raw_bucket,
                             const JobNotifyRules& notify_rules);

}  // namespace catalog::handlers
