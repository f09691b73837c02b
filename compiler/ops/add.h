// Add's params, held in Node::params (the op is in add.cc); a node without params has
// these defaults.
#pragma once
#include "ir/graph.h"

namespace tinyforge::ops {

struct AddAttrs {
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const AddAttrs& a, const AddAttrs& b) {
    return a.activation == b.activation;
  }
};

}  // namespace tinyforge::ops
