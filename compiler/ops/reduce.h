// IR params of Mean and Sum: declared here so importers and tests can build nodes.
#pragma once
#include <cstdint>
#include <vector>

namespace tinyforge::ops {

// TFLite's axis operand (as given: negative values and repeats allowed, since TFLite Micro
// picks its int8 Mean arithmetic from the raw list) and ReducerOptions' keep_dims.
struct ReduceOptions {
  std::vector<int32_t> axes;
  bool keep_dims = false;
  bool operator==(const ReduceOptions& o) const {
    return axes == o.axes && keep_dims == o.keep_dims;
  }
};

}  // namespace tinyforge::ops
