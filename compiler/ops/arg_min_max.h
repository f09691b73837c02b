// IR params of ArgMax and ArgMin: declared here so importers and tests can build nodes.
#pragma once
#include <cstdint>

namespace tinyforge::ops {

// The axis the index runs along, in [0, rank); select_last_index (ONNX): ties give the last
// index instead of the first.
struct ArgMinMaxAttrs {
  int32_t axis = 0;
  bool select_last_index = false;
  bool operator==(const ArgMinMaxAttrs& o) const {
    return axis == o.axis && select_last_index == o.select_last_index;
  }
};

}  // namespace tinyforge::ops
