// Mul's attributes, held in Node::params (the op is in mul.cc).
#pragma once
#include "ir/graph.h"

namespace tinyforge::ops {

struct MulAttrs {
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const MulAttrs& a, const MulAttrs& b) {
    return a.activation == b.activation;
  }
};

}  // namespace tinyforge::ops
