// IR params of Div: declared here so importers and tests can build nodes.
#pragma once
#include "ir/graph.h"

namespace tinyforge::ops {

// TFLite DivOptions: the fused activation.
struct DivAttrs {
  ir::Activation activation = ir::Activation::none;
  bool operator==(const DivAttrs& o) const { return activation == o.activation; }
};

}  // namespace tinyforge::ops
