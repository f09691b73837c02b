// FullyConnected's params, held in Node::params (the op is in fully_connected.cc); a node
// without params has these defaults.
#pragma once
#include "ir/graph.h"

namespace tinyforge::ops {

struct FullyConnectedAttrs {
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const FullyConnectedAttrs& a, const FullyConnectedAttrs& b) {
    return a.activation == b.activation;
  }
};

}  // namespace tinyforge::ops
