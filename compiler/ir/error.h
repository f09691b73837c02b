// The one error type of the host code (importers, passes, planner, emitters, CLI): the
// message names the file/op/tensor and what was expected. The device runtime never throws;
// it returns Status codes.
#pragma once
#include <stdexcept>

namespace tinyforge {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tinyforge
