// IR params of Sub (SquaredDifference has none): declared here so tests can build nodes.
#pragma once
#include "ir/graph.h"

namespace tinyforge::ops {

// TFLite SubOptions: the fused activation.
struct SubOptions {
  ir::Activation activation = ir::Activation::none;
  bool operator==(const SubOptions& o) const { return activation == o.activation; }
};

}  // namespace tinyforge::ops
