// Runs the `tinyforge` binary built beside the tests (TINYFORGE_CLI) with shell-quoted
// arguments, capturing its exit code, stdout and stderr through files in a scratch folder.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tinyforge::testing {

struct CliRun {
  int exit_code;  // 128 + signal number when the process was killed by a signal
  std::string out, err;
};

inline CliRun run_cli(const std::string& args, const std::filesystem::path& scratch_dir) {
  const std::string out = (scratch_dir / "stdout.txt").string();
  const std::string err = (scratch_dir / "stderr.txt").string();
  const std::string cmd =
      std::string("'") + TINYFORGE_CLI + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, slurp(out), slurp(err)};
}

}  // namespace tinyforge::testing
