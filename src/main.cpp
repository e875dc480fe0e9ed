#include "catalog/cli/commands.hpp"

int main(int argc, char** argv) { return catalog::cli::run(argc, argv); }
