#pragma once

namespace catalog::cli {

/// Entry point of the `catalog-api` binary; returns the process exit code.
int run(int argc, char** argv);

}  // namespace catalog::cli
