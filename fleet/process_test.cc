#include "fleet/process.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace tinyforge::fleet {
namespace {

int exit_status_of(const std::vector<std::string>& argv) {
  int status = -1;
  waitpid(spawn(argv, true), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(FleetProcess, ASpawnedChildInheritsNoDescriptorButTheStandardOnes) {
  // A descriptor without close-on-exec, as libmosquitto leaves its sockets.
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  const std::string inherited = "/proc/self/fd/" + std::to_string(ends[1]);
  EXPECT_EQ(exit_status_of({"sh", "-c", "test -e /proc/self/fd/2 && test ! -e " + inherited}), 0)
      << "the child still holds descriptor " << ends[1];
  close(ends[0]);
  close(ends[1]);
}

TEST(FleetProcess, RaisesTheDescriptorLimitToTheHardLimit) {
  const long limit = raise_descriptor_limit();
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  EXPECT_EQ(limit, sysconf(_SC_OPEN_MAX));
}

}  // namespace
}  // namespace tinyforge::fleet
