// IR params of Split, Unpack and Pack: declared here so importers and tests can build nodes.
#pragma once

namespace tinyforge::ops {

// Split and Unpack: the input dim cut (>= 0). Split's piece sizes are its outputs' extents
// along it; Unpack's outputs drop it.
struct SplitAttrs {
  int axis = 0;
  friend bool operator==(const SplitAttrs& a, const SplitAttrs& b) { return a.axis == b.axis; }
};

// Pack: the output dim the inputs are stacked along (>= 0).
struct PackAttrs {
  int axis = 0;
  friend bool operator==(const PackAttrs& a, const PackAttrs& b) { return a.axis == b.axis; }
};

}  // namespace tinyforge::ops
