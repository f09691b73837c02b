#include "emit/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>

extern char** environ;

namespace tinyforge::emit {
namespace {

// A started child whose stdout+stderr go to an unlinked temporary file.
struct Child {
  pid_t pid = -1;
  int output_fd = -1;
  size_t index = 0;
};

Child start(const std::vector<std::string>& argv, size_t index, ProcessResult& result) {
  Child child;
  child.index = index;
  char path[] = "/tmp/tinyforge-process-XXXXXX";
  child.output_fd = mkstemp(path);
  if (child.output_fd < 0) {
    result.output = std::string("mkstemp: ") + std::strerror(errno);
    return child;
  }
  unlink(path);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child.output_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child.output_fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawnp(&child.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    child.pid = -1;
    result.output = argv[0] + ": cannot start: " + std::strerror(rc);
  }
  return child;
}

void finish(Child& child, ProcessResult& result) {
  if (child.pid > 0) {
    int status = 0;
    while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    lseek(child.output_fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(child.output_fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) result.output.append(buf, static_cast<size_t>(n));
  }
  if (child.output_fd >= 0) close(child.output_fd);
}

}  // namespace

std::vector<ProcessResult> run_processes(const std::vector<std::vector<std::string>>& commands,
                                         unsigned jobs) {
  std::vector<ProcessResult> results(commands.size());
  std::deque<Child> running;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].empty()) continue;
    if (running.size() >= (jobs ? jobs : 1)) {
      finish(running.front(), results[running.front().index]);
      running.pop_front();
    }
    running.push_back(start(commands[i], i, results[i]));
  }
  for (Child& c : running) finish(c, results[c.index]);
  return results;
}

ProcessResult run_process(const std::vector<std::string>& argv) {
  if (argv.empty()) return {};
  return run_processes({argv}, 1)[0];
}

bool program_available(const std::string& program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  if (!path) return false;
  const std::string dirs = path;
  size_t start = 0;
  for (;;) {
    const size_t colon = dirs.find(':', start);
    const std::string dir =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0)
      return true;
    if (colon == std::string::npos) return false;
    start = colon + 1;
  }
}

}  // namespace tinyforge::emit
