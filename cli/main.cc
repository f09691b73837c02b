// tinyforge: one command line from trained model to microcontroller.
// Exit codes (docs/cli.md): 0 ok, 1 input/model error, 2 usage, 3 over budget,
// 4 verification failed. Every error is one line: `tinyforge: FILE: what (what to do)`.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "cli/contract.h"
#include "ir/unsupported.h"
#include "sim/error.h"

namespace {

// The subcommand a usage error belongs to, for the pointer to its --help.
std::string help_hint(CLI::App& app) {
  const std::vector<CLI::App*> used = app.get_subcommands();
  return used.empty() ? "tinyforge --help" : "tinyforge " + used.back()->get_name() + " --help";
}

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "tinyforge: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tinyforge::cli;
  CLI::App app{
      "tinyforge: import, optimize, compile, measure and ship neural networks for "
      "microcontrollers"};
  app.require_subcommand(1);
  app.fallthrough();  // --quiet after the subcommand too
  app.set_version_flag("--version", "tinyforge 0.1.0");
  app.add_flag("-q,--quiet", global().quiet, "no progress lines or notes on stderr");
  app.footer(
      "Exit codes: 0 ok, 1 input/model error, 2 usage, 3 over budget, 4 verification "
      "failed (docs/cli.md).");
  add_inspect(app);
  add_compile(app);
  add_run(app);
  add_keygen(app);
  add_package(app);
  add_verify(app);
  add_firmware(app);
  add_bench(app);
  add_export(app);
  add_quantize(app);
  add_prune(app);
  add_report(app);
  add_compare(app);
  add_mapview(app);
  add_listen(app);
  add_features(app);
  add_fleet(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kExitUsage, std::string(e.what()) + " (see " + help_hint(app) + ")");
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const VerifyError& e) {
    return fail(kExitVerify, e.what());
  } catch (const Exit& e) {
    return e.code;
  } catch (const tinyforge::UnsupportedOps& e) {  // a summary line, then one line per op
    for (const std::string& line : e.lines()) fail(kExitInput, line);
    return kExitInput;
  } catch (const std::exception& e) {  // tinyforge::Error, sim::Error, ...: a bad input
    return fail(kExitInput, e.what());
  }
  return kExitOk;
}
