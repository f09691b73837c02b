// The `tinyforge` subcommands. Each part of the project adds its commands with one
// add_<name>(app) function in its own cmd_<name>.cc; main.cc calls them all.
#pragma once
#include <CLI/CLI.hpp>

namespace tinyforge::cli {

// Thrown by a command that has already printed what it wants and must exit with `code`
// (e.g. 3 when a budget is exceeded). Errors are thrown as tinyforge::Error instead (exit 1).
struct Exit {
  int code;
};

void add_inspect(CLI::App& app);
void add_compile(CLI::App& app);
void add_run(CLI::App& app);
void add_keygen(CLI::App& app);   // cmd_ota.cc
void add_package(CLI::App& app);  // cmd_ota.cc
void add_verify(CLI::App& app);   // cmd_ota.cc
void add_firmware(CLI::App& app);
void add_bench(CLI::App& app);
void add_export(CLI::App& app);    // cmd_export.cc (issue 5)
void add_quantize(CLI::App& app);  // cmd_quantize.cc (issue 5)
void add_prune(CLI::App& app);     // cmd_prune.cc (issue 5)

}  // namespace tinyforge::cli
