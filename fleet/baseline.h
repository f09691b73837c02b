// The input statistics a model version is expected to see, recorded on the host before it
// ships: the plan inside an OTA package runs in the host build of the device runtime over
// calibration or test inputs, through the same telemetry Collector the device uses. The
// result is a telemetry record (device id "baseline"), so it is stored, parsed and compared
// exactly like the fleet's own records (Store::set_baseline, Store::drift).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinyforge/telemetry.h"

namespace tinyforge::fleet {

// `inputs`: raw tensors of the model's first input, back to back (as `tinyforge run`
// reads them). Throws tinyforge::Error naming `source` when the package or data is wrong.
telemetry::Record input_baseline(const std::vector<uint8_t>& package,
                                 const std::vector<uint8_t>& inputs, const std::string& source);

}  // namespace tinyforge::fleet
