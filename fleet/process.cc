#include "fleet/process.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ir/error.h"

namespace tinyforge::fleet {

pid_t spawn(const std::vector<std::string>& argv, bool quiet) {
  // Everything the child needs is prepared before fork: after it, in a process with
  // threads, the child may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int null_fd = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
  const long limit = sysconf(_SC_OPEN_MAX);
  const pid_t pid = fork();
  if (pid < 0) {
    if (null_fd >= 0) close(null_fd);
    throw Error("cannot fork to start " + argv.at(0));
  }
  if (pid == 0) {
    if (null_fd >= 0) {
      dup2(null_fd, 1);
      dup2(null_fd, 2);
    }
    // close_range(2) (Linux 5.9); a descriptor loop where it is missing.
    if (close_range(3, ~0U, 0) != 0)
      for (long fd = 3; fd < limit; ++fd) close(static_cast<int>(fd));
    execvp(args[0], args.data());
    _exit(127);
  }
  if (null_fd >= 0) close(null_fd);
  return pid;
}

long raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return sysconf(_SC_OPEN_MAX);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur == RLIM_INFINITY ? sysconf(_SC_OPEN_MAX)
                                         : static_cast<long>(limit.rlim_cur);
}

}  // namespace tinyforge::fleet
