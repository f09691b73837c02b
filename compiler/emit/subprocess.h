// Runs an external tool (the cross compiler, the archiver) without a shell: argv[0] is
// looked up in PATH, arguments are passed as they are (no quoting or globbing).
#pragma once
#include <string>
#include <vector>

namespace tinyforge::emit {

struct ProcessResult {
  int exit_code = -1;  // -1: could not start, or killed by a signal
  std::string output;  // stdout and stderr together
};

ProcessResult run_process(const std::vector<std::string>& argv);

// Runs every command, at most `jobs` at a time; results in command order.
std::vector<ProcessResult> run_processes(const std::vector<std::vector<std::string>>& commands,
                                         unsigned jobs);

// True when `program` is an executable found in PATH (or an existing path).
bool program_available(const std::string& program);

}  // namespace tinyforge::emit
