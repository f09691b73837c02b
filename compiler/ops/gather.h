// IR params of Gather: declared here so importers and tests can build nodes.
#pragma once
#include <cstdint>

namespace tinyforge::ops {

// The data axis the indices select along, in [0, rank).
struct GatherAttrs {
  int32_t axis = 0;
  bool operator==(const GatherAttrs& o) const { return axis == o.axis; }
};

}  // namespace tinyforge::ops
