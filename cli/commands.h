// The `tinyforge` subcommands. Each part of the project adds its commands with one
// add_<name>(app) function in its own cmd_<name>.cc; main.cc calls them all.
#pragma once
#include <CLI/CLI.hpp>

namespace tinyforge::cli {

// Thrown by a command that has already printed what it wants and must exit with `code`
// (3 when a budget is exceeded). Errors are thrown instead: tinyforge::Error (exit 1),
// UsageError (2), VerifyError (4) of cli/contract.h.
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
void add_export(CLI::App& app);
void add_quantize(CLI::App& app);
void add_prune(CLI::App& app);
void add_report(CLI::App& app);    // cmd_report.cc
void add_compare(CLI::App& app);   // cmd_compare.cc
void add_mapview(CLI::App& app);   // cmd_mapview.cc
void add_listen(CLI::App& app);    // cmd_listen.cc
void add_fleet(CLI::App& app);     // cmd_fleet.cc
void add_features(CLI::App& app);  // cmd_features.cc

}  // namespace tinyforge::cli
