// tinyforge: one command line from trained model to microcontroller.
// Exit codes: 0 ok, 1 error, 2 usage, 3 budget exceeded.
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tinyforge: import, optimize, compile, measure and ship neural networks for microcontrollers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tinyforge 0.1.0");
  tinyforge::cli::add_inspect(app);
  tinyforge::cli::add_compile(app);
  tinyforge::cli::add_run(app);
  tinyforge::cli::add_keygen(app);
  tinyforge::cli::add_package(app);
  tinyforge::cli::add_verify(app);
  tinyforge::cli::add_firmware(app);
  tinyforge::cli::add_bench(app);
  tinyforge::cli::add_export(app);
  tinyforge::cli::add_quantize(app);
  tinyforge::cli::add_prune(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const tinyforge::cli::Exit& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tinyforge: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
