// Processes and descriptors for the fleet tools: a child (the broker, or the service in the
// benchmark) started without the parent's descriptors, and the descriptor limit that
// thousands of connections in one process need.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace tinyforge::fleet {

// Starts argv[0] (looked up on PATH) with `argv` and returns its pid; throws when fork
// fails. The child gets only stdin, stdout and stderr (/dev/null for the last two when
// `quiet`): a child that inherited a simulator's thousands of sockets would hold those
// connections open and would number its own sockets above FD_SETSIZE.
pid_t spawn(const std::vector<std::string>& argv, bool quiet);

// Raises this process's soft limit on open descriptors to its hard limit (children
// inherit it) and returns the limit now in force.
long raise_descriptor_limit();

}  // namespace tinyforge::fleet
