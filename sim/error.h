// Errors of the Cortex-M emulator: a bad ELF, a firmware that breaks the measurement
// protocol, an emulation fault. The message names the file or address and what was wrong.
#pragma once
#include <stdexcept>

namespace tinyforge::sim {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tinyforge::sim
